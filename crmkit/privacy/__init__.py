"""Privacy and consent: the policy every read, write, export and contact goes through.

``crm.privacy`` is the entry point (:class:`~crmkit.privacy.facade.Privacy`);
this package also exports what plugin authors need to write policy rules and
declare purposes and channels.
"""

from crmkit.privacy.facts import SubjectFacts
from crmkit.privacy.model import (
    ACTIONS,
    Actor,
    Channel,
    Decision,
    Masked,
    PolicyRequest,
    Purpose,
    Role,
    Rule,
)

__all__ = [
    "ACTIONS",
    "Actor",
    "Channel",
    "Decision",
    "Masked",
    "PolicyRequest",
    "Purpose",
    "Role",
    "Rule",
    "SubjectFacts",
]
