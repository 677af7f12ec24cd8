from django.forms.renderers import TemplatesSetting


class StoreFormRenderer(TemplatesSetting):
    """Renders every form field through templates/components/field.html."""

    field_template_name = "components/field.html"
