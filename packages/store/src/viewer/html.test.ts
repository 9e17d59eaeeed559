import { describe, expect, it } from "vitest";
import { escapeHtml, fmtLatency, fmtPct, fmtScore, html, jsonBlock, preview, raw } from "./html.js";

describe("html", () => {
  it("escapes every interpolated value, but not Html fragments", () => {
    const name = `<img src=x onerror="alert('1')">&`;
    expect(html`<b title="${name}">${name}</b>`.value).toBe(
      '<b title="&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;">&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;</b>',
    );
    expect(html`<p>${html`<i>${"<x>"}</i>`}</p>`.value).toBe("<p><i>&lt;x&gt;</i></p>");
    expect(html`${[1, "<", raw("<br>")]}`.value).toBe("1&lt;<br>");
    expect(html`a${null}${undefined}${false}b${0}`.value).toBe("ab0");
    expect(escapeHtml(`'"<>&`)).toBe("&#39;&quot;&lt;&gt;&amp;");
  });

  it("renders JSON with escaped, coloured tokens", () => {
    const out = jsonBlock({ "<k>": "</pre><script>x</script>", n: -1.5e3, ok: true, none: null }).value;
    expect(out).not.toContain("<script>");
    expect(out).not.toContain("</pre><");
    expect(out).toContain('<span class="j-key">&quot;&lt;k&gt;&quot;</span>');
    expect(out).toContain('<span class="j-num">-1500</span>');
    expect(out).toContain('<span class="j-lit">true</span>');
    expect(out).toContain('<span class="j-lit">null</span>');
    expect(jsonBlock("plain <b>text</b>").value).toBe('<pre class="json text">plain &lt;b&gt;text&lt;/b&gt;</pre>');
    const cut = jsonBlock({ s: "x".repeat(100) }, 20).value;
    expect(cut).toContain("more characters not shown");
  });

  it("previews values on one line", () => {
    expect(preview({ question: "What is\n the capital?", lang: "en" })).toBe("question: What is the capital? · lang: en");
    expect(preview({ output: "Paris" })).toBe("Paris");
    expect(preview([1, 2])).toBe("[1,2]");
    expect(preview(null)).toBe("");
    expect(preview({ long: "y".repeat(500) }, 20)).toHaveLength(20);
  });

  it("formats numbers for people", () => {
    expect(fmtLatency(0.4)).toBe("<1 ms");
    expect(fmtLatency(412.6)).toBe("413 ms");
    expect(fmtLatency(1500)).toBe("1.50 s");
    expect(fmtLatency(125_000)).toBe("2m 5s");
    expect(fmtScore(1)).toBe("1");
    expect(fmtScore(0.8333)).toBe("0.83");
    expect(fmtPct(2 / 3)).toBe("66.7%");
    expect(fmtPct(1)).toBe("100%");
    expect(fmtPct(0.99999)).toBe("99.9%");
  });
});
