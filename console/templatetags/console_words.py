"""`{{ code|status_word }}`: a status or role code as a translatable word (console.words)."""

from django import template

from console.words import STATUS_WORDS

register = template.Library()


@register.filter
def status_word(code):
    return STATUS_WORDS.get(code, code)
