"""Validation of what staff type into the category and collection forms."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.http import QueryDict

from catalog.models import Category, Collection, Product
from catalog.services_taxonomy import (
    RULE_FIELDS,
    RULE_OPS,
    RULE_VALUE_MAX,
    category_tree,
    product_search_for_picker,
    rule_clean,
    rules_match_counts,
)

# Indents the parent picker: an em space survives the whitespace collapsing of <option>.
INDENT = "\u2003"


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = [
            "name",
            "slug",
            "parent",
            "position",
            "description",
            "seo_title",
            "seo_description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        labels = {"seo_title": "SEO title", "seo_description": "SEO description"}
        help_texts = {
            "slug": "The last part of its address, as in /categories/cookware/. "
            "Leave empty to make one from the name.",
            "position": "Lower numbers come first among categories of the same parent.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False
        parents = Category.objects.all()
        if self.instance.pk:
            # Its own subtree cannot hold it: category_save refuses the loop too, this
            # keeps such choices out of the list in the first place.
            parents = parents.exclude(path__startswith=self.instance.path)
        field = self.fields["parent"]
        field.queryset = parents
        field.empty_label = "None: a top-level category"
        field.error_messages["invalid_choice"] = (
            "Choose a parent outside this category and its subcategories."
        )
        # The queryset still validates the choice; the labels show the tree in order.
        field.choices = [
            ("", field.empty_label),
            *(
                (node.pk, INDENT * node.depth + node.name)
                for node in category_tree(parents.order_by("path"))
            ),
        ]


class CollectionForm(forms.ModelForm):
    # Rendered by the picker as hidden inputs, one per chosen product.
    products = forms.ModelMultipleChoiceField(
        queryset=Product.objects.all(),
        required=False,
        widget=forms.MultipleHiddenInput,
        error_messages={
            "invalid_choice": "A chosen product was deleted meanwhile; it has been dropped "
            "from the list, save again.",
            "invalid_pk_value": "The chosen products could not be read; choose them again.",
        },
    )

    class Meta:
        model = Collection
        fields = [
            "title",
            "slug",
            "description",
            "kind",
            "match",
            "featured",
            "position",
            "seo_title",
            "seo_description",
        ]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}
        labels = {
            "match": "Products must match",
            "featured": "Featured on the home page",
            "seo_title": "SEO title",
            "seo_description": "SEO description",
        }
        help_texts = {
            "slug": "The last part of its address, as in /collections/summer-picks/. "
            "Leave empty to make one from the title.",
            "position": "Lower numbers come first on the home page and in lists.",
            "featured": "",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["slug"].required = False


class RuleForm(forms.Form):
    """One row of the rules editor; a row left entirely blank is skipped, not an error."""

    field = forms.ChoiceField(
        label="Looks at", required=False, choices=[("", "Choose…"), *RULE_FIELDS.items()]
    )
    op = forms.ChoiceField(label="Test", required=False, choices=[("", "—"), *RULE_OPS.items()])
    value = forms.CharField(label="Value", required=False, max_length=RULE_VALUE_MAX)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        self.rule: dict[str, str] | None = None
        if not (data.get("field") or data.get("op") or data.get("value")):
            return data
        rule, errors = rule_clean(data)
        for name, message in errors.items():
            if name not in self.errors:  # keep Django's own message (e.g. too long)
                self.add_error(name, message)
        if not errors:
            self.rule = rule
        return data


RuleFormSet = forms.formset_factory(RuleForm, extra=0, max_num=20, validate_max=True)

RULE_PREFIX = "rules"
RULE_ROWS_MAX = 20
# Blank rows under the saved rules, so rules can be added without JavaScript.
BLANK_RULE_ROWS = 2
# The values of the page's buttons (name="editor"); anything else is a plain save.
ACTION = re.compile(
    r"^(save|search|preview|kind|rule-add|rule-remove-\d+|product-(add|remove)-\d+)$"
)


def parse_ids(values: list[str]) -> list[int]:
    """Ids as posted (hidden inputs, query string), in order, without repeats or junk."""
    return list(dict.fromkeys(int(value) for value in values if value.isdigit()))


class CollectionEditor:
    """The collection page's parts bound together: the fields, the hand-picked products and
    the rule rows, plus the button that was pressed.

    Only "save" validates. The other buttons (add or remove a row or a product, search,
    preview, change of kind) re-render what was typed as initial values, so a half-filled
    page shows no errors yet and nothing is written. Each works as a plain form submit
    (the whole page comes back) and as an htmx request (its region comes back).
    """

    def __init__(self, *, collection: Collection, data: QueryDict | None = None) -> None:
        self.collection = collection
        raw_action = (data or {}).get("editor") or "save"
        self.action = raw_action if ACTION.match(raw_action) else "save"
        self.query = (data or {}).get("product_q", "").strip()
        if data is None:
            self.form = CollectionForm(instance=collection)
            rows = [*(collection.rules or []), *([{}] * BLANK_RULE_ROWS)]
            self.rules = RuleFormSet(initial=rows, prefix=RULE_PREFIX)
            self.chosen_ids = (
                list(collection.products.values_list("pk", flat=True)) if collection.pk else []
            )
        elif self.action == "save":
            self.form = CollectionForm(data, instance=collection)
            self.rules = RuleFormSet(data, prefix=RULE_PREFIX)
            self.chosen_ids = parse_ids(data.getlist("products"))
        else:
            self.form = CollectionForm(initial=self._typed(data), instance=collection)
            self.rules = RuleFormSet(initial=self._rows(data), prefix=RULE_PREFIX)
            self.chosen_ids = self._picked(data)
        self.rules_error = ""

    def _typed(self, data: QueryDict) -> dict[str, Any]:
        typed: dict[str, Any] = {
            name: data.get(name, "") for name in CollectionForm.Meta.fields if name != "featured"
        }
        typed["featured"] = bool(data.get("featured"))  # an unticked box is simply absent
        return typed

    def _rows(self, data: QueryDict) -> list[dict[str, str]]:
        total = data.get(f"{RULE_PREFIX}-TOTAL_FORMS", "0")
        count = min(int(total) if total.isdigit() else 0, RULE_ROWS_MAX)
        rows = [
            {key: data.get(f"{RULE_PREFIX}-{index}-{key}", "") for key in ("field", "op", "value")}
            for index in range(count)
        ]
        if self.action == "rule-add" and len(rows) < RULE_ROWS_MAX:
            rows.append({})
        elif self.action.startswith("rule-remove-"):
            index = int(self.action.rsplit("-", 1)[1])
            rows = [row for position, row in enumerate(rows) if position != index]
        return rows

    def _picked(self, data: QueryDict) -> list[int]:
        ids = parse_ids(data.getlist("products"))
        if self.action.startswith("product-add-"):
            ids.append(int(self.action.rsplit("-", 1)[1]))
        elif self.action.startswith("product-remove-"):
            pk = int(self.action.rsplit("-", 1)[1])
            ids = [value for value in ids if value != pk]
        return list(dict.fromkeys(ids))

    @property
    def kind(self) -> str:
        if self.form.is_bound:
            return self.form.data.get("kind") or Collection.Kind.MANUAL
        return self.form.initial.get("kind") or self.collection.kind

    def is_valid(self) -> bool:
        # `&`, not `and`: both parts validate, so every error shows at once.
        valid = self.form.is_valid() & self.rules.is_valid()
        if valid and self.kind == Collection.Kind.RULES and not self.cleaned_rules:
            self.rules_error = "A collection by rules needs at least one rule."
            return False
        return valid

    @property
    def cleaned_rules(self) -> list[dict[str, str]]:
        return [form.rule for form in self.rules.forms if getattr(form, "rule", None)]

    def to_save(self) -> tuple[Collection, list[Product]]:
        """The collection with what was typed (after is_valid) and its chosen products."""
        collection = self.form.instance
        collection.rules = self.cleaned_rules
        return collection, list(self.form.cleaned_data["products"])

    def _preview_rules(self) -> tuple[list[dict[str, str]], bool]:
        """Complete rules as typed, and whether an incomplete row was left out."""
        if self.rules.is_bound:
            self.rules.is_valid()
            rows = [form.cleaned_data for form in self.rules.forms if form.is_valid()]
            incomplete = any(not form.is_valid() for form in self.rules.forms)
        else:
            rows = [form.initial for form in self.rules.forms]
            incomplete = False
        complete = []
        for row in rows:
            if not (row.get("field") or row.get("op") or row.get("value")):
                continue
            rule, errors = rule_clean(row)
            if errors:
                incomplete = True
            else:
                complete.append(rule)
        return complete, incomplete

    def context(self) -> dict[str, Any]:
        rules, incomplete = self._preview_rules()
        match = (
            self.form.data.get("match") if self.form.is_bound else self.form.initial.get("match")
        ) or self.collection.match
        chosen = list(Product.objects.filter(pk__in=self.chosen_ids).order_by("title", "pk"))
        return {
            "form": self.form,
            "rules": self.rules,
            "rules_error": self.rules_error,
            "kind": self.kind,
            "chosen": chosen,
            "query": self.query,
            "results": product_search_for_picker(
                query=self.query, exclude_ids=[product.pk for product in chosen]
            ),
            "preview": rules_match_counts(rules=rules, match=match) if rules else None,
            "preview_incomplete": incomplete,
            "rows_max": RULE_ROWS_MAX,
        }

    def partial(self, htmx: bool) -> str:
        """The region an htmx request of this action replaces; "" for the whole page."""
        if not htmx or self.action == "save":
            return ""
        if self.action.startswith("rule-"):
            return "#rules"
        if self.action.startswith("product-"):
            return "#chosen-products"
        return {"search": "#product-results", "preview": "#rule-preview"}.get(
            self.action, "#kind-panel"
        )
