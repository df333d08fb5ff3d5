"""REST API serializer of the workflow buttons. Model clean() errors come back keyed by field (full_clean)."""

from nautobot.apps.api import ContentTypeField, NautobotModelSerializer, TaggedModelSerializerMixin
from nautobot.extras.utils import ChangeLoggedModelsQuery

from nautobot_jobflow.models import WorkflowButton


class WorkflowButtonSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    """A workflow button; its input template is checked against the workflow's input schema."""

    content_types = ContentTypeField(queryset=ChangeLoggedModelsQuery().as_queryset(), many=True)

    class Meta:
        model = WorkflowButton
        fields = "__all__"
