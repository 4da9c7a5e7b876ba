"""Every table, one module per table family; Alembic's ``target_metadata`` is ``Base.metadata``."""

from scaisend.db.base import Base
from scaisend.models.api_key import ApiKey
from scaisend.models.batch import Batch
from scaisend.models.daily_stats import ALL_CATEGORIES, STAT_METRICS, DailyStat
from scaisend.models.event import EmailEvent
from scaisend.models.group import Group, GroupMember, GroupRole
from scaisend.models.identity import IdentityEvent, RefreshToken
from scaisend.models.image import Image
from scaisend.models.message import Message, MessageContent, MessageStatus, SendRequest
from scaisend.models.sender_domain import DkimKey, SenderDomain
from scaisend.models.suppression import AsmGroup, Suppression, SuppressionKind
from scaisend.models.template import Template, TemplateVersion
from scaisend.models.tenant import Partner, PartnerAdmin, Tenant
from scaisend.models.tracking_settings import DEFAULT_TRACKING, TrackingSettings
from scaisend.models.user import Permission, Role, User, UserRole, role_permissions
from scaisend.models.webhook import EventWebhookSettings, WebhookDelivery, WebhookEndpoint

__all__ = [
    "ALL_CATEGORIES",
    "DEFAULT_TRACKING",
    "STAT_METRICS",
    "ApiKey",
    "AsmGroup",
    "Base",
    "Batch",
    "DailyStat",
    "DkimKey",
    "EmailEvent",
    "EventWebhookSettings",
    "Group",
    "GroupMember",
    "GroupRole",
    "IdentityEvent",
    "Image",
    "Message",
    "MessageContent",
    "MessageStatus",
    "Partner",
    "PartnerAdmin",
    "Permission",
    "RefreshToken",
    "Role",
    "SendRequest",
    "SenderDomain",
    "Suppression",
    "SuppressionKind",
    "Template",
    "TemplateVersion",
    "Tenant",
    "TrackingSettings",
    "User",
    "UserRole",
    "WebhookDelivery",
    "WebhookEndpoint",
    "role_permissions",
]
