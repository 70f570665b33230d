"""The base of every form: Flask-WTF, with WTForms' own messages translated once per process."""
from functools import cache

from babel import support
from flask import request
from flask_babel import get_locale
from flask_wtf import FlaskForm
from flask_wtf.form import _Auto as _AUTO  # the "read the request" default of FlaskForm
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from wtforms.fields import FileField
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

        def wrap_formdata(self, form, formdata):
            """Read what a browser's form sends, only: its fields, and uploads under the form's
            own file fields. Flask-WTF would also take a JSON body as the fields (any JSON
            value: a list or ``false`` there was a 500) and an uploaded file as a text field's
            value; an empty POST gave every field no raw data at all."""
            if formdata is not _AUTO:
                return formdata  # given explicitly (``request.args``, ``None``)
            if not form.is_submitted():
                return None
            file_fields = {field.name for field in form if isinstance(field, FileField)}
            uploads = [(name, upload) for name, upload in request.files.items(multi=True)
                       if name in file_fields]
            if not uploads:
                return request.form
            return CombinedMultiDict((MultiDict(uploads), request.form))
