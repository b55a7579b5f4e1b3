"""The administrators' people page: creating a person, with Django's username and password
validation (AUTH_PASSWORD_VALIDATORS)."""
from django import forms
from django.contrib.auth import get_user_model, password_validation

from appliance.accounts.roles import Role, teams

ROLE_NAMES = [role.value for role in Role]


class PersonForm(forms.Form):
    username = forms.CharField(
        max_length=150, validators=get_user_model()._meta.get_field("username").validators,
        help_text="Letters, digits and @ . + - _ only.")
    email = forms.EmailField(required=False, label="E-mail (optional)",
                             help_text="Escalations are mailed here when the appliance has SMTP.")
    password1 = forms.CharField(
        label="Password", required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Leave both empty to have a one-time password made and shown once.")
    password2 = forms.CharField(label="Password again", required=False, strip=False,
                                widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}))
    roles = forms.MultipleChoiceField(
        choices=[(role.value, role.label) for role in Role], widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one role: a person without one can do nothing here."})
    teams = forms.ModelMultipleChoiceField(queryset=teams(), required=False, widget=forms.CheckboxSelectMultiple,
                                           label="Teams")
    new_team = forms.CharField(label="New team (optional)", required=False, max_length=150,
                               help_text="Created and joined, e.g. “Fraud review”.")

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise forms.ValidationError(f"Someone is already called “{username}”: choose another username.")
        return username

    def clean_new_team(self):
        name = " ".join(self.cleaned_data["new_team"].split())
        if name.lower() in ROLE_NAMES:
            raise forms.ValidationError(f"“{name}” is a role, not a team: choose another name.")
        if name and teams().filter(name__iexact=name).exists():
            raise forms.ValidationError(f"The team “{name}” exists already: tick it above.")
        return name

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("password1", ""), cleaned.get("password2", "")
        if first != second:
            self.add_error("password2", "The two passwords differ: type the same password twice.")
        elif first:  # checked against what was typed even when the username itself is refused
            user = get_user_model()(username=self.data.get("username", ""), email=self.data.get("email", ""))
            try:
                password_validation.validate_password(first, user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class TeamsForm(forms.Form):
    """A person's teams, ticked on the people page."""

    teams = forms.ModelMultipleChoiceField(queryset=teams(), required=False, widget=forms.CheckboxSelectMultiple)
