from django import forms


class DateInput(forms.DateInput):
    """A text box for dd/mm/yyyy: cheap phones handle it better than a native date picker in Vietnamese."""

    def __init__(self, attrs=None):
        defaults = {"placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off"}
        super().__init__(attrs={**defaults, **(attrs or {})}, format="%d/%m/%Y")
