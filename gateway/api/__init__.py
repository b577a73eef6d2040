"""The REST API the platform drives: one router module per resource, each with the JSON it answers.

``gateway.web`` mounts them all; ``shared`` holds what every router needs.
"""
