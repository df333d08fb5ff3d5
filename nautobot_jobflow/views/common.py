"""What the UI views of several capabilities share."""

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.shortcuts import redirect
from nautobot.core.utils.requests import convert_querydict_to_dict
from nautobot.core.views.utils import get_bulk_queryset_from_view

from nautobot_jobflow.models.git_owned import managed_by_git


def add_launch_errors(form, error, place):
    """Show a LaunchRefused on a form: each of its messages where ``place`` puts it.

    ``place(key, message)`` yields ``(field, text)`` pairs for one message of the refusal, ``key`` being the name the
    refusal gives it (None when it names none); a ``field`` of None makes ``text`` a non-field error. Each form maps
    the names to its own fields: the run form to its generated per-input fields, the request-run form to ``job``,
    ``inputs`` and ``dryrun``.
    """
    problems = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
    for key, texts in problems.items():
        for message in texts:
            for field, text in place(key, message):
                form.add_error(field, text)


class GitManagedViewMixin:
    """Edit and delete (one or in bulk) of a definition a Git repository owns are refused with where to change it.

    ``git_owner_lookup``: the queryset path to the owning repository (``workflow__git_repository`` for steps and
    edges). The model's guard (``models.git_owned``) refuses any other write; this says so before a form is filled.
    """

    git_owner_lookup = "git_repository"

    def update(self, request, *args, **kwargs):
        """Refuse the edit form of a Git-owned definition."""
        return self.refuse_git_managed(request, self.get_object()) or super().update(request, *args, **kwargs)

    def destroy(self, request, *args, **kwargs):
        """Refuse deleting a Git-owned definition."""
        return self.refuse_git_managed(request, self.get_object()) or super().destroy(request, *args, **kwargs)

    def bulk_destroy(self, request, *args, **kwargs):
        """Refuse a bulk delete that selects a Git-owned definition."""
        return self._refuse_bulk(request, "delete") or super().bulk_destroy(request, *args, **kwargs)

    def refuse_git_managed(self, request, obj):
        """A redirect to the object's page with the reason when ``obj`` is managed by Git; None otherwise."""
        message = managed_by_git(obj) if obj is not None else None
        if message is None:
            return None
        messages.error(request, message)
        return redirect(obj.get_absolute_url() if obj.present_in_database else self.get_return_url(request))

    def _refuse_bulk(self, request, action):
        every = bool(request.POST.get("_all"))
        queryset = get_bulk_queryset_from_view(
            user=request.user,
            content_type=ContentType.objects.get_for_model(self.queryset.model),
            filter_query_params=convert_querydict_to_dict(request.GET),
            pk_list=request.POST.getlist("pk"),
            saved_view_id=request.GET.get("saved_view", ""),
            action=action,
            delete_all=every if action == "delete" else None,
            edit_all=every if action == "change" else None,
        )
        owned = queryset.filter(**{f"{self.git_owner_lookup}__isnull": False})
        first = owned.first()
        if first is None:
            return None
        count = owned.count()
        messages.error(
            request,
            f"{count} of the selected {queryset.model._meta.verbose_name_plural} "
            f"{'is' if count == 1 else 'are'} managed by Git and cannot be changed here. {managed_by_git(first)}",
        )
        return redirect(self.get_return_url(request))


class GitManagedBulkEditViewMixin(GitManagedViewMixin):
    """GitManagedViewMixin for a viewset with bulk edit (a separate class: the router adds a route per method)."""

    def bulk_update(self, request, *args, **kwargs):
        """Refuse a bulk edit that selects a Git-owned definition."""
        return self._refuse_bulk(request, "change") or super().bulk_update(request, *args, **kwargs)
