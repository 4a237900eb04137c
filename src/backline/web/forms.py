"""Forms of the shell: sign-in and personal API tokens."""

from __future__ import annotations

from django import forms


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="Say where it will be used, e.g. 'laptop scripts'.",
    )
