"""Links between identifiers, for the buyer (see and contest) and for admins (rule, account)."""

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from blacklist.auth import IsAdminKey
from blacklist.selectors import links_of
from blacklist.serializers import StrictSerializer, choice
from disputes.auth import BuyerTokenAuthentication, IsBuyerToken
from disputes.models import LinkContest, LinkContestStatus
from disputes.selectors import buyer_links
from disputes.services.links import link_contest_open, link_contest_resolve
from disputes.views.common import key_actor
from identity.services import link_restore, link_sever
from riskhub.errors import Conflict, NotFound


def results_of(serializer_class):
    """The documented shape of these endpoints' bodies: {"results": [...]} (short, unpaginated lists)."""
    return inline_serializer(
        f"{serializer_class.__name__.removesuffix('Serializer')}List", {"results": serializer_class(many=True)}
    )


class LinkedIdentifierSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="An opaque reference to contest it by; never the identifier itself.")
    kind = serializers.CharField()
    contested = serializers.CharField(allow_null=True, help_text="Status of your contest of it, if any.")


class AppealLinksApi(APIView):
    authentication_classes = [BuyerTokenAuthentication]
    permission_classes = [IsBuyerToken]
    raises = (NotFound, Conflict)  # documented by riskhub.schema: unknown identifier, contest already open

    class LinkContestInputSerializer(StrictSerializer):
        identifier = serializers.IntegerField(min_value=1)
        statement = serializers.CharField(max_length=2000)

    class LinkContestOutputSerializer(serializers.Serializer):
        id = serializers.UUIDField()
        status = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="appeals_links",
        summary="Identifiers linked to your email (buyer token)",
        responses=results_of(LinkedIdentifierSerializer),
        description=(
            "Identifiers (by kind only) that several sellers independently named together with your email, "
            "so that their flags are shown to you and count for your email. Contest one that is not yours."
        ),
    )
    def get(self, request):
        rows = buyer_links(email_digest=request.auth.email_digest)
        return Response({"results": LinkedIdentifierSerializer(rows, many=True).data})

    @extend_schema(
        operation_id="appeals_links_contest",
        summary="Contest a link: this identifier is not mine (buyer token)",
        request=LinkContestInputSerializer,
        responses={201: LinkContestOutputSerializer},
        description="An admin reviews it; if they agree, the link is severed and stays severed. Unknown → 404.",
    )
    def post(self, request):
        data = self.LinkContestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contest = link_contest_open(
            buyer=request.auth,
            identifier_id=data.validated_data["identifier"],
            statement=data.validated_data["statement"],
        )
        return Response(self.LinkContestOutputSerializer(contest).data, status=status.HTTP_201_CREATED)


class AdminLinkContestSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField()
    identifier = serializers.IntegerField(source="identifier_id")
    kind = serializers.CharField(source="identifier.kind")
    statement = serializers.CharField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)
    resolution_note = serializers.CharField()


class AdminLinkContestListApi(APIView):
    permission_classes = [IsAdminKey]

    class FilterSerializer(serializers.Serializer):
        status = choice(LinkContestStatus.values, required=False)

    @extend_schema(
        operation_id="admin_link_contests",
        summary="Buyers' link contests, oldest first (admin key)",
        parameters=[OpenApiParameter("status", str, enum=LinkContestStatus.values)],
        responses=results_of(AdminLinkContestSerializer),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        contests = LinkContest.objects.select_related("identifier").order_by("created_at", "id")
        if filters.validated_data.get("status"):
            contests = contests.filter(status=filters.validated_data["status"])
        return Response({"results": AdminLinkContestSerializer(contests[:500], many=True).data})


class AdminLinkContestResolveApi(APIView):
    raises = (Conflict,)  # already resolved (404 comes with the path id)
    permission_classes = [IsAdminKey]

    class InputSerializer(StrictSerializer):
        outcome = choice(["severed", "rejected"])
        note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="admin_link_contests_resolve",
        summary="Sever the contested links, or reject the contest (admin key)",
        request=InputSerializer,
        responses=AdminLinkContestSerializer,
    )
    def post(self, request, contest_id):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contest = link_contest_resolve(contest_id=contest_id, actor=key_actor(request), **data.validated_data)
        return Response(AdminLinkContestSerializer(contest).data)


class LinkAssertionSerializer(serializers.Serializer):
    other = serializers.IntegerField(help_text="The identifier at the other end (id).")
    other_kind = serializers.CharField()
    sellers = serializers.ListField(child=serializers.IntegerField(), help_text="Seller ids asserting it.")
    flags = serializers.ListField(child=serializers.UUIDField(), help_text="The counting flags asserting it.")
    corroborated = serializers.BooleanField()
    severed = serializers.BooleanField()


class AdminLinksApi(APIView):
    raises = (NotFound,)  # documented by riskhub.schema: no such identifier or severed link
    """Accountability: who asserted which link of an identifier, through which flag."""

    permission_classes = [IsAdminKey]

    class FilterSerializer(serializers.Serializer):
        identifier = serializers.IntegerField(min_value=1)

    class RulingSerializer(StrictSerializer):
        a = serializers.IntegerField(min_value=1)
        b = serializers.IntegerField(min_value=1)
        action = choice(["sever", "restore"])
        note = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")

    @extend_schema(
        operation_id="admin_links",
        summary="The links of one identifier, with the sellers and flags asserting them (admin key)",
        parameters=[OpenApiParameter("identifier", int, required=True)],
        responses=results_of(LinkAssertionSerializer),
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(
            {"results": LinkAssertionSerializer(links_of(filters.validated_data["identifier"]), many=True).data}
        )

    @extend_schema(
        operation_id="admin_links_rule",
        summary="Sever or restore the link between two identifiers (admin key)",
        request=RulingSerializer,
        responses=RulingSerializer,
    )
    def post(self, request):
        data = self.RulingSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if v["action"] == "sever":
            link_sever(a=v["a"], b=v["b"], actor=key_actor(request), note=v["note"])
        else:
            link_restore(a=v["a"], b=v["b"], actor=key_actor(request))
        return Response({"a": v["a"], "b": v["b"], "action": v["action"], "note": v["note"]})
