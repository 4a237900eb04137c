"""The HTML shell: layout, sign-in, navigation, shared template pieces and static assets.

Owns no domain data. Views of each domain live in that domain's views.py and render templates
that extend ``web/base.html``.
"""
