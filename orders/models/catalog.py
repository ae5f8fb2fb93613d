"""The catalogue: product specifications (what can be delivered, its characteristics and the
fulfilment plan that delivers it), product offerings (what is sold, at what price) and
serviceability (what the network can deliver where)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from orders.fulfilment import CHANGE_PLAN_NAMES, plan_validate


class Technology(models.TextChoices):
    FTTP = "fttp", "Full fibre (FTTP)"
    FTTC = "fttc", "Fibre to the cabinet (FTTC)"
    FWA = "fwa", "Fixed wireless"


class ProductKind(models.TextChoices):
    """What a specification is, as the order rules know it: one line, and add-ons on a line."""

    INTERNET_ACCESS = "internet_access", "Internet access"
    STATIC_IP = "static_ip", "Static IPv4 address"
    ROUTER = "router", "Managed router"


class LifecycleStatus(models.TextChoices):
    """TMF620 lifecycle statuses the catalogue uses."""

    IN_DESIGN = "In design", "In design"
    LAUNCHED = "Launched", "Launched"
    RETIRED = "Retired", "Retired"


class ProductSpecification(models.Model):
    """What can be delivered and what fulfilling it takes (TMF620 productSpecification).

    ``characteristics`` are the specification's characteristics as TMF620 lists them
    (``[{"name", "valueType", "description", "values": [...]}]``); each offering gives their
    values. ``fulfilment_plan`` is its plan as data (orders.fulfilment): the tasks, their
    dependencies, automatic or manual, and the point of no return. An add-on's plan may refer
    to its parent's steps (``parent.create_subscriber``); ``parent_kind`` says which kind of item
    it relies on.
    """

    code = models.SlugField(max_length=40, unique=True, help_text="Stable id used by the APIs.")
    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=ProductKind.choices)
    parent_kind = models.CharField(
        max_length=20,
        choices=ProductKind.choices,
        blank=True,
        help_text="An add-on: sold only with an item of this kind on the order.",
    )
    description = models.TextField(blank=True)
    customer_label = models.CharField(
        max_length=60, help_text="How the customer's pages name an item of it: 'Static IP'."
    )
    brand = models.CharField(max_length=60, blank=True)
    version = models.CharField(max_length=20, default="1.0")
    lifecycle_status = models.CharField(
        max_length=20, choices=LifecycleStatus.choices, default=LifecycleStatus.LAUNCHED
    )
    characteristics = models.JSONField(default=list, blank=True)
    fulfilment_plan = models.JSONField()
    change_plans = models.JSONField(
        default=dict,
        blank=True,
        help_text="Plans for orders that change a live product, by action: modify (a plan "
        "change), suspend, resume, delete (a cease). Same steps as the fulfilment plan; a step "
        'with "undo": true takes back what its task type does.',
    )
    last_update = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "code"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.last_update = timezone.now()
        super().save(*args, **kwargs)

    @property
    def is_add_on(self) -> bool:
        return bool(self.parent_kind)

    def clean(self) -> None:
        parent_plan = None
        if self.parent_kind:
            parent = ProductSpecification.objects.filter(kind=self.parent_kind).first()
            parent_plan = parent.fulfilment_plan if parent is not None else []
        try:
            plan_validate(self.fulfilment_plan, parent_plan=parent_plan)
        except ValidationError as exc:
            raise ValidationError({"fulfilment_plan": exc.messages}) from exc
        problems: list[str] = []
        plans = self.change_plans if isinstance(self.change_plans, dict) else None
        if plans is None:
            problems.append("Change plans are an object of plans by action.")
        for action, plan in (plans or {}).items():
            if action not in CHANGE_PLAN_NAMES:
                problems.append(f"'{action}' is not a change ({', '.join(CHANGE_PLAN_NAMES)}).")
                continue
            parent_change = None
            if self.parent_kind and parent_plan is not None:
                parent = ProductSpecification.objects.filter(kind=self.parent_kind).first()
                parent_change = (parent.change_plans or {}).get(action) if parent else None
            try:
                plan_validate(plan, parent_plan=parent_change or parent_plan)
            except ValidationError as exc:
                problems += [f"{action}: {message}" for message in exc.messages]
        if problems:
            raise ValidationError({"change_plans": problems})


class Plan(models.Model):
    """A product offering: what is sold, at what price, delivering one product specification.

    Internet access offerings (the line's plan) carry their speed; add-on offerings (a static
    IP, a managed router) do not. ``monthly_price`` is the recurring charge, ``one_time_price``
    a charge on the first bill (a router fee), zero where none applies. ``technologies`` limits
    where it can be sold (a router model that suits only some access technologies); empty
    means everywhere. The name ``Plan`` is historical: the first offerings were speed plans.
    """

    code = models.SlugField(max_length=40, unique=True, help_text="Stable id used by the APIs.")
    name = models.CharField(max_length=80)
    specification = models.ForeignKey(
        ProductSpecification, on_delete=models.PROTECT, related_name="offerings"
    )
    download_mbps = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    upload_mbps = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    characteristic_values = models.JSONField(
        default=dict, blank=True, help_text="Values of the specification's other characteristics."
    )
    technologies = models.JSONField(
        default=list,
        blank=True,
        help_text="Access technologies it suits (fttp, fttc, fwa); empty: all of them.",
    )
    monthly_price = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    one_time_price = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0.00"))],
    )
    currency = models.CharField(max_length=3, default="GBP")
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True, help_text="Offered for new orders.")

    class Meta:
        verbose_name = "product offering"
        ordering = ["download_mbps", "monthly_price"]

    def __str__(self) -> str:
        if self.download_mbps is None:
            return self.name
        return f"{self.name} ({self.speed_tier})"

    @property
    def kind(self) -> str:
        return self.specification.kind

    @property
    def is_add_on(self) -> bool:
        return self.specification.is_add_on

    @property
    def speed_tier(self) -> str:
        if self.download_mbps is None:
            return ""
        if self.download_mbps >= 1000:
            return f"{self.download_mbps / 1000:g} Gbps"
        return f"{self.download_mbps} Mbps"

    def suits(self, technology: str) -> bool:
        return not self.technologies or technology in self.technologies

    def clean(self) -> None:
        spec = getattr(self, "specification", None)
        if spec is None:
            return
        if spec.kind == ProductKind.INTERNET_ACCESS and not (
            self.download_mbps and self.upload_mbps
        ):
            raise ValidationError(
                "An internet access offering needs its download and upload speed."
            )
        unknown = set(self.technologies or ()) - set(Technology.values)
        if unknown:
            raise ValidationError({"technologies": f"Unknown: {', '.join(sorted(unknown))}."})


def normalize_postcode(postcode: str) -> str:
    """Upper case with single inner space removed: 'sw1a 1aa' -> 'SW1A1AA'."""
    return "".join(postcode.split()).upper()


def postcode_looks_valid(postcode: str) -> bool:
    """The one rule every way in (sales form, TMF622, TMF679) applies: a full UK postcode is 5
    to 7 letters and digits once spaces are removed."""
    compact = normalize_postcode(postcode)
    return 5 <= len(compact) <= 7 and compact.isalnum()


class ServiceArea(models.Model):
    """Serviceability: what the network can deliver at a postcode, and whether it is automated.

    A postcode with no row, or with ``max_download_mbps`` of 0, is not serviceable.
    """

    postcode = models.CharField(max_length=10, unique=True, help_text="Normalized, no spaces.")
    exchange = models.CharField(max_length=60, help_text="Exchange or point of presence.")
    technology = models.CharField(max_length=8, choices=Technology.choices)
    max_download_mbps = models.PositiveIntegerField(default=0)
    auto_provisioning = models.BooleanField(
        default=True,
        help_text="The network here accepts automated activation. If not, orders go to the "
        "manual provisioning pool.",
    )

    class Meta:
        ordering = ["postcode"]

    def __str__(self) -> str:
        return f"{self.postcode} ({self.exchange}, {self.get_technology_display()})"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.postcode = normalize_postcode(self.postcode)
        super().save(*args, **kwargs)

    def supports(self, plan: Plan) -> bool:
        """The network here can deliver this offering: its speed (a line), its technology
        (a router model that suits only some)."""
        if self.max_download_mbps <= 0 or not plan.suits(self.technology):
            return False
        return plan.download_mbps is None or self.max_download_mbps >= plan.download_mbps
