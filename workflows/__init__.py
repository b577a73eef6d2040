"""Business workflows: state machines as tables, and what each transition causes."""
