"""The policy: YAML loaded into a validated `Policy`, applied to findings by a pure `evaluate`."""

from gate.policy.evaluate import evaluate
from gate.policy.load import load_policy, parse_policy
from gate.policy.owners import OwnerResolver, load_codeowners
from gate.policy.schema import Policy

__all__ = ["OwnerResolver", "Policy", "evaluate", "load_codeowners", "load_policy", "parse_policy"]
