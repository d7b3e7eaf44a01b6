"""Entities: attrs classes with stable type names and per-field metadata."""

from crmkit.entities.base import Entity, entity, utcnow
from crmkit.entities.core import Affiliation, Contact, Interaction, Organization
from crmkit.entities.fields import FieldSpec, field
from crmkit.entities.types import EntityType, FieldInfo, build_entity_type

__all__ = [
    "Affiliation",
    "Contact",
    "Entity",
    "EntityType",
    "FieldInfo",
    "FieldSpec",
    "Interaction",
    "Organization",
    "build_entity_type",
    "entity",
    "field",
    "utcnow",
]
