// Story form: live length counts for each channel's copy, and autosave of
// the edit buffer every 15 seconds after a change. Progressive enhancement:
// the server counts again and the form works without this file.
(function () {
  "use strict";
  var form = document.querySelector("form.story-form");
  if (!form) { return; }
  var seg = window.Intl && Intl.Segmenter ? new Intl.Segmenter(undefined, { granularity: "grapheme" }) : null;
  function graphemes(s) {
    if (seg) { var n = 0; for (var _ of seg.segment(s)) { n++; } return n; }
    return Array.from(s).length;
  }
  function count(text, urlWeight) {
    if (!urlWeight) { return graphemes(text); }
    var re = /https?:\/\/[^\s<>"]+/g, n = 0, last = 0, m;
    while ((m = re.exec(text)) !== null) {
      n += graphemes(text.slice(last, m.index)) + urlWeight;
      last = m.index + m[0].length;
    }
    return n + graphemes(text.slice(last));
  }
  form.querySelectorAll("textarea[data-limit]").forEach(function (ta) {
    var out = document.getElementById(ta.id + "-count");
    var limit = parseInt(ta.dataset.limit, 10), weight = parseInt(ta.dataset.urlWeight || "0", 10);
    function update() {
      var n = count(ta.value, weight);
      out.querySelector(".n").textContent = String(n);
      out.classList.toggle("over", n > limit);
    }
    ta.addEventListener("input", update);
    update();
  });
  var url = form.dataset.autosave;
  if (!url) { return; }
  var status = form.querySelector(".autosave-status");
  var dirty = false;
  form.addEventListener("input", function () { dirty = true; });
  function values() {
    var fd = new FormData(form), copy = {};
    form.querySelectorAll("textarea[data-limit]").forEach(function (ta) { copy[ta.name.replace("copy-", "")] = ta.value; });
    return {
      base_revision: parseInt(fd.get("base_revision"), 10) || 0,
      title: fd.get("title") || "", slug: fd.get("slug") || "", summary: fd.get("summary") || "", body: fd.get("body") || "",
      tags: fd.get("tags") || "", channels: fd.getAll("channels"), copy: copy, owner: fd.get("owner") || "",
      collaborators: fd.getAll("collaborators"), patient: fd.get("patient") || "", interview: fd.get("interview") || ""
    };
  }
  setInterval(function () {
    if (!dirty) { return; }
    dirty = false;
    fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": form.querySelector("input[name=_csrf]").value },
      body: JSON.stringify(values())
    }).then(function (r) { return r.json(); }).then(function (j) {
      status.textContent = j.saved_at ? "Draft autosaved at " + j.saved_at + "." : (j.error || "");
    }).catch(function () { status.textContent = "Autosave failed; your text is still here."; dirty = true; });
  }, 15000);
})();
