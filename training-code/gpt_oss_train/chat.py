"""The chat template used to render training rows: GPT-OSS's own, with TRL's assistant markers and a fixed date.

GPT-OSS's template writes `Current date: <today>` into every system message (`strftime_now("%Y-%m-%d")`), so
the same row would tokenize differently on different days and a resumed or repeated run would not see the data
the first one saw. Training renders it with a pinned date instead (`TRAINING_DATE`): the line keeps the shape the
model sees at inference (dropping it would train on prompts the served model never gets), and the value is fixed.
The tokenizer saved with the model keeps the original template, so serving renders the real date.

For `assistant_only_loss`, TRL needs `{% generation %}` markers around what the assistant writes; TRL ships that
variant of GPT-OSS's template (`get_training_chat_template`), so the marked text is exactly the assistant's
analysis and final channels (and tool calls) and nothing else.
"""

from __future__ import annotations

from .recipe import RecipeError


TRAINING_DATE = "2025-08-05"  # the day gpt-oss was released; any fixed value makes rendering reproducible
DATE_CALL = 'strftime_now("%Y-%m-%d")'


def pin_date(template: str, date: str = TRAINING_DATE) -> str:
    """Replace the template's call for today's date with a fixed date."""
    return template.replace(DATE_CALL, f'"{date}"')


def training_chat_template(tokenizer, assistant_only_loss: bool) -> str:
    """The template to render training rows with (date pinned; assistant markers when `assistant_only_loss`)."""
    from trl.chat_template_utils import get_training_chat_template, has_generation_markers

    template = tokenizer.chat_template
    if assistant_only_loss and not has_generation_markers(template):
        try:
            template = get_training_chat_template(tokenizer)
        except ValueError as err:
            raise RecipeError(
                f"assistant_only_loss: true needs a chat template with assistant markers; TRL has none for this "
                f"tokenizer's template ({err}). Set `assistant_only_loss: false` or use a GPT-OSS tokenizer."
            ) from err
    if "strftime_now" in pin_date(template):
        raise RecipeError(
            "the chat template calls strftime_now in a form this project does not pin; training rows would render "
            'differently every day. Expected the GPT-OSS template\'s `strftime_now("%Y-%m-%d")`.'
        )
    return pin_date(template)
