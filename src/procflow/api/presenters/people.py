"""Members and organizations as Tallyfy's clients read them.

A person's id and e-mail are shared by every organization they belong to; their names,
time zone, role and state are the membership's, i.e. what one organization sees of them.
"""

from typing import Any

from procflow.domain.timeutil import format_ts
from procflow.services.people import OrganizationView
from procflow.services.records import Membership, User


def user_json(user: User, profile: Membership | None, role: str | None) -> dict[str, Any]:
    """The person as `profile` shows them; without one (no active membership), the
    profile a new member gets: the e-mail's local part as first name, UTC."""
    if profile is None:
        first, last, zone = user.email.split("@", 1)[0][:100], "", "UTC"
    else:
        first, last, zone = profile.first_name, profile.last_name, profile.timezone
    full = f"{first} {last}".strip()
    return {
        "id": user.id,
        "email": user.email,
        "username": user.email,
        "first_name": first,
        "last_name": last,
        "full_name": full or user.email,
        "profile_pic": None,
        "timezone": zone,
        "active": True,
        "role": role,
        "created_at": format_ts(user.created_at if profile is None else profile.created_at),
    }


def member_json(user: User, membership: Membership) -> dict[str, Any]:
    """A member of an organization: the person as that organization's membership has them;
    `created_at` is when they joined it, never when the person first appeared anywhere."""
    disabled = membership.disabled_at is not None
    return user_json(user, membership, membership.role) | {
        "active": not disabled,
        "is_suspended": disabled,
        "status": "disabled" if disabled else "active",
        "disabled_at": format_ts(membership.disabled_at),
        "approved_at": format_ts(membership.created_at),
    }


def organization_json(view: OrganizationView) -> dict[str, Any]:
    """Every key of the organization that Tallyfy's SDK model reads: what procflow knows,
    and for the rest the value that describes procflow (no trial, billing, SSO, analytics,
    automatic completion or archiving, generative AI), else the SDK's own default."""
    org = view.organization
    created = format_ts(org.created_at)
    return (
        {"id": org.id, "name": org.name, "created_at": created, "created_on": created}
        | ORGANIZATION_DEFAULTS
        | {
            "users_count": view.users_count,
            "user_role": view.user_role,
            "timezone": "UTC",
            "last_updated": created,
        }
    )


ORGANIZATION_DEFAULTS: dict[str, Any] = {
    "industry": None,
    "description": None,
    "address1": None,
    "address2": None,
    "country": None,
    "state": None,
    "city": None,
    "zipcode": None,
    "org_logo": None,
    "home_bg": None,
    "settings": None,
    "live_support_enabled": 0,
    "payment_state": None,
    "plan_code": None,
    "preferred_trial_plan": None,
    "team_size": [],
    "signup_survey": None,
    "purpose": None,
    "in_trial": False,
    "limit_trial_features": False,
    "real_time_billing": False,
    "disable_min_members_billing": False,
    "enable_light_users_billing": False,
    "analytics_enabled": False,
    "google_analytics_id": None,
    "mixpanel_token": None,
    "saml_enabled": False,
    "saml_login_url": None,
    "sso_default_role": None,
    "auto_join_signups": False,
    "allow_user_invite": True,
    "allow_manage_groups": True,
    "maximum_group_assignment_limit": 0,
    "restrict_blueprint_permissions": False,
    "working_days": None,
    "deadline_setting": None,
    "default_deadline": None,
    "cadence_days": [],
    "guest_cadence_days": [],
    "auto_archive": False,
    "auto_archive_processes_after": None,
    "auto_complete_tasks": False,
    "auto_complete_task_months": 0,
    "wyiwyg": True,
    "global_css": None,
    "error_404_template": None,
    "enable_custom_404_error": False,
    "enable_custom_smtp": False,
    "light_role_error_snippet": None,
    "guest_onboarding_snippet": None,
    "homepage_snippet": None,
    "onboarding_snippet": None,
    "onboarding_template_id": None,
    "enable_onboarding_template": False,
    "azure_cognitive_service": None,
    "use_generative_ai": False,
    "webhook_date_field_format": "yyyy-MM-ddTHH:mm:ssZ",
    "process_today": None,
    "disabled_on": None,
    "last_accessed": None,
}
