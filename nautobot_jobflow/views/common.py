"""What the UI views of several capabilities share."""


def add_launch_errors(form, error, place):
    """Show a LaunchRefused on a form: each of its messages where ``place`` puts it.

    ``place(key, message)`` yields ``(field, text)`` pairs for one message of the refusal, ``key`` being the name the
    refusal gives it (None when it names none); a ``field`` of None makes ``text`` a non-field error. Each form maps
    the names to its own fields: the run form to its generated per-input fields, the request-run form to ``job``,
    ``inputs`` and ``dryrun``.
    """
    problems = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    for key, messages in problems.items():
        for message in messages:
            for field, text in place(key, message):
                form.add_error(field, text)
