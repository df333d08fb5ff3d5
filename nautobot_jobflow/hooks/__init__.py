"""Hook rules at run time: receive changes, evaluate conditions, debounce and batch, fire through launch()."""
