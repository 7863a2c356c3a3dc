// Progressive enhancement for media uploads. Each chosen file goes in its
// own request with a progress bar, so a slow or failed file does not hold up
// the others. Files over 8 MB use the resumable protocol: chunks are sent in
// order, a failed chunk is retried, and the upload id is remembered, so a
// dropped connection or a reloaded page resumes where it stopped. Without
// JavaScript the form posts all files at once.
(function () {
  "use strict";
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.XMLHttpRequest || !window.FormData || !window.fetch) { return; }
  var input = form.querySelector("input[type=file]");
  var box = form.querySelector("[data-upload-progress]");
  var csrf = form.getAttribute("data-csrf");
  var mediaURL = form.getAttribute("action").split("?")[0];
  var startURL = mediaURL.replace(/\/media$/, "/uploads");
  var big = 8 * 1024 * 1024;

  function row(file) {
    var p = document.createElement("p");
    var label = document.createElement("label");
    var bar = document.createElement("progress");
    label.textContent = file.name + " ";
    bar.max = 100; bar.value = 0;
    label.appendChild(bar);
    p.appendChild(label);
    box.appendChild(p);
    return {
      progress: function (done, total) { bar.value = Math.round(100 * done / total); },
      ok: function () { bar.value = 100; p.appendChild(document.createTextNode(" added")); },
      fail: function (msg) { p.className = "error"; p.appendChild(document.createTextNode(" " + msg)); }
    };
  }

  function json(method, url, body, type) {
    var headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
    if (type) { headers["Content-Type"] = type; }
    return fetch(url, { method: method, headers: headers, body: body, credentials: "same-origin" }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { data.status = r.status; return data; });
    });
  }

  function problems(res) { return (res.problems && res.problems.join(" ")) || res.error || "failed"; }

  // simple sends a small file in one request, with upload progress.
  function simple(file, ui) {
    return new Promise(function (resolve) {
      var data = new FormData();
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", mediaURL);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) { ui.progress(e.loaded, e.total); } };
      xhr.onload = function () {
        var res = {};
        try { res = JSON.parse(xhr.responseText); } catch (e) { res = {}; }
        if (xhr.status === 200) { ui.ok(); resolve(true); } else { ui.fail(problems(res)); resolve(false); }
      };
      xhr.onerror = function () { ui.fail("the connection failed; try this file again"); resolve(false); };
      xhr.send(data);
    });
  }

  // resumable sends a large file in chunks, resuming a remembered upload.
  function resumable(file, ui) {
    var memo = "storykeep-upload:" + startURL + ":" + file.name + ":" + file.size + ":" + file.lastModified;
    var known = window.localStorage ? localStorage.getItem(memo) : null;
    var begin = known ? json("GET", "/uploads/" + known) : Promise.resolve({ status: 404 });
    return begin.then(function (st) {
      if (st.status === 200) { return st; }
      return json("POST", startURL, JSON.stringify({ file_name: file.name, size: file.size }), "application/json");
    }).then(function (st) {
      if (st.status !== 200 && st.status !== 201) { throw new Error(problems(st)); }
      if (window.localStorage) { localStorage.setItem(memo, st.id); }
      var tries = 0;
      var send = function (offset) {
        ui.progress(offset, file.size);
        if (offset >= file.size) { return json("POST", "/uploads/" + st.id + "/complete"); }
        var end = Math.min(offset + st.chunk_size, file.size);
        return json("PUT", "/uploads/" + st.id + "?offset=" + offset, file.slice(offset, end), "application/octet-stream").then(function (res) {
          if (res.status === 200) { tries = 0; return send(res.received); }
          if (res.status === 409 && typeof res.received === "number") { return send(res.received); }
          throw new Error(problems(res));
        }, function () {
          tries += 1;
          if (tries > 5) { throw new Error("the connection keeps failing; choose the file again later to resume"); }
          return new Promise(function (r) { setTimeout(r, 1000 * tries * tries); }).then(function () {
            return json("GET", "/uploads/" + st.id).then(function (s2) { return send(s2.received); });
          });
        });
      };
      return send(st.received);
    }).then(function (res) {
      if (window.localStorage) { localStorage.removeItem(memo); }
      if (res.status === 200) { ui.ok(); return true; }
      ui.fail(problems(res));
      return false;
    }, function (err) { ui.fail(err.message); return false; });
  }

  form.addEventListener("submit", function (ev) {
    if (!input.files || input.files.length === 0) { return; }
    ev.preventDefault();
    box.hidden = false;
    box.setAttribute("role", "status");
    box.textContent = "";
    var files = Array.prototype.slice.call(input.files);
    var allOK = true;
    var next = function () {
      var file = files.shift();
      if (!file) {
        if (allOK) { window.location.reload(); }
        return;
      }
      var ui = row(file);
      (file.size > big ? resumable(file, ui) : simple(file, ui)).then(function (ok) { allOK = allOK && ok; next(); });
    };
    next();
  });
}());
