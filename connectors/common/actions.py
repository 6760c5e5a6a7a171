"""The contract's rules for `operation: "action"` (an agent pressed a button on a case)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.catalog import CASE_ACTIONS, is_case_table
from connectors.common.errors import ReasonCode

Violation = tuple[ReasonCode, str]

_ACTION_NAMES = ", ".join(CASE_ACTIONS)
_CHANGE_TYPES = ("normal", "standard")


def check_action(table: str, operation: str, action: str | None, action_args: Mapping[str, Any]) -> Violation | None:
    """The first way `action` / `action_args` break the contract, or None when they follow it.

    Details name fields and the expected values only, never the values received.
    """
    if operation != "action":
        if action is not None:
            return "invalid_value", "action: expected null unless operation is 'action'"
        if action_args:
            return "invalid_action_args", "action_args: expected {} unless operation is 'action'"
        return None
    if action is None:
        return "missing_field", "action: required when operation is 'action'"
    if action not in CASE_ACTIONS:
        return "unknown_action", f"action: expected one of {_ACTION_NAMES}"
    if not is_case_table(table):
        return "unknown_action", "action: actions are only defined on case tables"
    return _check_args(action, action_args)


def _check_args(action: str, args: Mapping[str, Any]) -> Violation | None:
    allowed = CASE_ACTIONS[action]
    if any(key not in allowed for key in args):
        accepted = ", ".join(sorted(allowed)) or "no arguments"
        return "invalid_action_args", f"action_args: {action} accepts {accepted}"
    for key, value in args.items():
        if not isinstance(value, str) or not value:
            return "invalid_action_args", f"action_args.{key}: expected a non-empty string"
    if action == "create_change":
        change_type = args.get("type")
        if change_type not in _CHANGE_TYPES:
            return "invalid_action_args", "action_args.type: expected 'normal' or 'standard'"
        if change_type == "standard" and "template" not in args:
            return "invalid_action_args", "action_args.template: required for a standard change"
        if change_type == "normal" and "template" in args:
            return "invalid_action_args", "action_args.template: only for a standard change"
    if action == "create_request" and "cat_item" not in args:
        return "invalid_action_args", "action_args.cat_item: required for create_request"
    return None
