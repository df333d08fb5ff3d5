"""Workflows from Git: ``jobflow/workflows/*.yaml``, in the format of the YAML export, one workflow per file.

They go through the same parse and apply as the UI and REST imports (``models.workflow_yaml``). Steps may run Jobs of
the same repository (core syncs its Jobs first) and workflows of other files (those are applied first).
"""

from django.core.exceptions import ValidationError

from nautobot_jobflow.lib import graph
from nautobot_jobflow.models.workflow_yaml import apply_workflow_document, nested_workflow_names, parse_workflow


def parse(text):
    """The workflow's YAML document."""
    return parse_workflow(text)


def apply(document, repository, path, user):
    """Create or update the workflow; returns (workflow, created, changed)."""
    outcome = apply_workflow_document(document, repository=repository, path=path)
    return outcome.workflow, outcome.created, outcome.changed


def order(documents):
    """The documents with the workflows that others nest before those; files nesting each other in a loop refused.

    ``documents``: (path, document) pairs with distinct names. Returns (ordered pairs, [(path, ValidationError)]).
    """
    by_name = {document["name"]: (path, document) for path, document in documents}
    nests = {name: nested_workflow_names(document) & set(by_name) for name, (_path, document) in by_name.items()}
    refused = []
    while True:
        dependencies = [(child, name) for name, children in nests.items() for child in children if child in nests]
        cycle = graph.find_cycle(graph.build_graph(nests, dependencies))
        if cycle is None:
            break
        text = graph.describe_cycle(cycle)
        for name in set(cycle):
            refused.append(
                (by_name[name][0], ValidationError({"steps": f"the files' workflows nest in a loop: {text}."}))
            )
            del nests[name]
    dependencies = [(child, name) for name, children in nests.items() for child in children if child in nests]
    ordered = graph.topological_order(graph.build_graph(nests, dependencies))
    return [by_name[name] for name in ordered], refused
