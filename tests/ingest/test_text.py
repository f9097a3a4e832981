"""HTML to text and quote stripping."""

from __future__ import annotations

import pytest

from detector.ingest.text import html_to_text, strip_forum_quotes


def test_paragraphs_and_breaks_become_lines():
    html = "<p>first <b>bold</b></p><p>second<br>third<br/>fourth</p><ul><li>a</li><li>b</li></ul>"
    assert html_to_text(html) == "first bold\nsecond\nthird\nfourth\na\nb"


def test_entities_and_whitespace():
    html = "<p>500 &amp;  503   &lt;errors&gt;&nbsp;now</p>"
    assert html_to_text(html) == "500 & 503 <errors> now"  # NBSP is a space too
    assert html_to_text("no markup &amp; entities") == "no markup & entities"
    assert html_to_text("") == ""


def test_mastodon_links_keep_full_url():
    html = (
        '<p>status: <a href="https://www.githubstatus.com/incidents/x" rel="nofollow">'
        '<span class="invisible">https://www.</span><span class="ellipsis">githubstatus.com'
        '/incide</span><span class="invisible">nts/x</span></a></p>'
    )
    assert html_to_text(html) == "status: https://www.githubstatus.com/incidents/x"


def test_quotes_dropped_including_nested():
    html = (
        "<blockquote>old <blockquote>older</blockquote> still old</blockquote><p>new</p>"
        '<div class="bbCodeBlock quote">xenforo quote</div>'
        '<aside class="quote"><div><aside class="quote">deep</aside></div>q</aside>after'
    )
    assert html_to_text(html) == "new\nafter"


def test_quotes_kept_when_asked():
    assert html_to_text("<blockquote>old</blockquote><p>new</p>", drop_quotes=False) == "old\nnew"


def test_div_with_quote_substring_class_is_not_a_quote():
    assert html_to_text('<div class="quoteless">kept</div>') == "kept"


@pytest.mark.parametrize(
    "html",
    [
        "<![x",
        "<!x",
        "<![CDATA[ foo",
        "</",
        '<a b="',
        "&#xffffffff;",
        "<!--",
        "<?x",
        "<p",
        "<<<>>>",
        "<script>x</script>",
    ],
)
def test_broken_markup_never_raises(html):
    assert isinstance(html_to_text(html), str)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[QUOTE="bob, post: 1"]app down?[/QUOTE]yes, 500 error here', "yes, 500 error here"),
        ("[quote]a[quote=x]b[/quote]c[/quote]d", "d"),
        ("[quote]one[/quote] mid [quote]two[/quote] end", "mid\nend"),
        ("bob said:\napp down?\nClick to expand...\nsame in Oslo", "same in Oslo"),
        (
            "Alice said:\n\nquoted\nmore quoted\nClick to expand...\n\nreply\nbob said:\nq\n"
            "Click to shrink...\nsecond reply",
            "reply\nsecond reply",
        ),
        ("> quoted line\n>another\nmy answer", "my answer"),
        ("no quotes here", "no quotes here"),
        ("[quote]only a quote[/quote]", ""),
        ("unclosed [quote] stays", "unclosed [quote] stays"),
    ],
)
def test_strip_forum_quotes(text, expected):
    assert strip_forum_quotes(text) == expected


def test_greater_than_inside_a_line_is_kept():
    assert strip_forum_quotes("latency > 500ms") == "latency > 500ms"
