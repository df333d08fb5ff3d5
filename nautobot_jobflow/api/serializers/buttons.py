"""REST API serializer of the workflow buttons. Model clean() errors come back keyed by field (full_clean)."""

from nautobot.apps.api import ContentTypeField, NautobotModelSerializer, TaggedModelSerializerMixin
from nautobot.extras.utils import ChangeLoggedModelsQuery
from rest_framework import serializers

from nautobot_jobflow.models import WorkflowButton


class WorkflowButtonSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    """A workflow button; its input template is checked against the workflow's input schema."""

    # Not required in the schema: answers with ?exclude_m2m=true leave it out (found by tests/test_api_fuzz.py);
    # validate() still asks for at least one object type.
    content_types = ContentTypeField(queryset=ChangeLoggedModelsQuery().as_queryset(), many=True, required=False)

    class Meta:
        model = WorkflowButton
        fields = "__all__"

    def validate(self, attrs):
        """A button is on the pages of at least one object type."""
        if ("content_types" in attrs or self.instance is None) and not attrs.get("content_types"):
            raise serializers.ValidationError({"content_types": "Choose at least one object type."})
        return super().validate(attrs)
