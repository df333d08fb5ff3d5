"""REST API serializers of the hook rules: rules, windows, firings and the rule tester's body and answer."""

from django.core.exceptions import ValidationError as DjangoValidationError
from nautobot.apps.api import (
    ContentTypeField,
    NautobotModelSerializer,
    TaggedModelSerializerMixin,
    ValidatedModelSerializer,
)
from nautobot.extras.utils import ChangeLoggedModelsQuery
from rest_framework import serializers

from nautobot_jobflow.launching.permissions import check_target_permission
from nautobot_jobflow.models import HookFiring, HookRule, HookWindow
from nautobot_jobflow.models.hook_rule_checks import validate_for_content_types


class HookRuleSerializer(TaggedModelSerializerMixin, NautobotModelSerializer):
    """A hook rule; saving it requires run permission on its target. Bad input is a 400 naming the field."""

    content_types = ContentTypeField(queryset=ChangeLoggedModelsQuery().as_queryset(), many=True, required=False)

    class Meta:
        model = HookRule
        fields = "__all__"
        read_only_fields = ["owner"]

    def validate(self, attrs):
        """The model's clean(), then paths/filter against the object types, then the saving user's permission."""
        attrs = super().validate(attrs)
        instance = self._merged_instance(attrs)
        if "content_types" in attrs:
            content_types = attrs["content_types"]
        else:
            content_types = list(self.instance.content_types.all()) if self.instance is not None else []
        request = self.context.get("request")
        try:
            validate_for_content_types(instance, content_types)
            if request is None or not getattr(request, "user", None):
                raise DjangoValidationError({"job": "A hook rule is saved by a user who may run its target."})
            check_target_permission(instance, request.user)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return attrs

    def _merged_instance(self, attrs):
        """An unsaved HookRule with the instance's values overlaid by the request's (no many-to-many)."""
        instance = HookRule()
        if self.instance is not None:
            for field in HookRule._meta.concrete_fields:
                setattr(instance, field.attname, getattr(self.instance, field.attname))
        concrete = {field.name for field in HookRule._meta.concrete_fields}
        for name, value in attrs.items():
            if name in concrete:
                setattr(instance, name, value)
        return instance


class HookWindowSerializer(ValidatedModelSerializer):
    """A debounce or batch window of a rule (read-only; nested in firings at depth > 0)."""

    events = serializers.SerializerMethodField()

    class Meta:
        model = HookWindow
        fields = "__all__"
        read_only_fields = [field.name for field in HookWindow._meta.concrete_fields if field.name != "id"]

    def get_events(self, obj) -> list[dict]:
        """The window's changes, one per object (latest change, ``before`` of the first), as its run sees them."""
        return obj.changes()


class HookFiringSerializer(ValidatedModelSerializer):
    """One time a rule matched (read-only)."""

    class Meta:
        model = HookFiring
        fields = "__all__"
        read_only_fields = [field.name for field in HookFiring._meta.concrete_fields if field.name != "id"]


class HookRuleTestSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Body of POST hook-rules/{id}/test/: one of object_change, change or completion."""

    object_change = serializers.UUIDField(required=False, help_text="ID of a recorded ObjectChange.")
    change = serializers.JSONField(
        required=False, help_text="A change: {action, object_type, before, after[, user]} (snapshots as in webhooks)."
    )
    completion = serializers.JSONField(
        required=False, help_text="Completion rules: {job | workflow, status, result, ...}."
    )

    def validate(self, attrs):
        """Exactly one input."""
        given = [key for key in ("object_change", "change", "completion") if attrs.get(key) is not None]
        if len(given) != 1:
            raise serializers.ValidationError(
                {"object_change": "Give exactly one of object_change, change, completion."}
            )
        return attrs


class HookRuleTestResultSerializer(serializers.Serializer):  # pylint: disable=abstract-method
    """Answer of POST hook-rules/{id}/test/."""

    would_fire = serializers.BooleanField()
    problems = serializers.ListField(child=serializers.CharField())
    conditions = serializers.ListField(child=serializers.DictField())
    object_filter = serializers.DictField(allow_null=True)
    inputs = serializers.JSONField(allow_null=True)
