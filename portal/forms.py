"""The base of every form: Flask-WTF, with WTForms' own messages translated once per process."""
from functools import cache

from babel import support
from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms.i18n import messages_path


@cache
def wtforms_translations(locale: str) -> support.Translations:
    """WTForms' built-in messages (e.g. "Not a valid date") for ``locale``, loaded once."""
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class PortalForm(FlaskForm):
    """A Flask-WTF form (CSRF included) whose built-in messages follow the chosen language.

    Flask-WTF reads the WTForms catalogue from disk on every request that shows a message;
    this keeps one parsed catalogue per language instead.
    """

    class Meta(FlaskForm.Meta):
        def get_translations(self, form):
            return wtforms_translations(str(get_locale() or "zh_CN"))
