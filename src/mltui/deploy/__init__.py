"""Changing the engine through the docker CLI: building images offline (images.py)
and deploying the ready stacks (stacks.py). Knows no UI, like core; core never
imports it."""
