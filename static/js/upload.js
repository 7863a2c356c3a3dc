// Progressive enhancement for media uploads: sends each chosen file in its
// own request with a progress bar, so a slow or failed file does not hold up
// the others. Without JavaScript the form posts all files at once.
(function () {
  "use strict";
  var form = document.querySelector("form[data-upload]");
  if (!form || !window.XMLHttpRequest || !window.FormData) { return; }
  var input = form.querySelector("input[type=file]");
  var box = form.querySelector("[data-upload-progress]");
  form.addEventListener("submit", function (ev) {
    if (!input.files || input.files.length === 0) { return; }
    ev.preventDefault();
    box.hidden = false;
    box.setAttribute("role", "status");
    box.textContent = "";
    var files = Array.prototype.slice.call(input.files);
    var failed = [];
    var next = function () {
      var file = files.shift();
      if (!file) {
        if (failed.length === 0) { window.location.reload(); }
        return;
      }
      var row = document.createElement("p");
      var label = document.createElement("label");
      var bar = document.createElement("progress");
      label.textContent = file.name + " ";
      bar.max = 100; bar.value = 0;
      label.appendChild(bar);
      row.appendChild(label);
      box.appendChild(row);
      var data = new FormData();
      data.append("files", file, file.name);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.getAttribute("action").split("?")[0]);
      xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); } };
      xhr.onload = function () {
        var res = {};
        try { res = JSON.parse(xhr.responseText); } catch (e) { res = {}; }
        if (xhr.status === 200) {
          bar.value = 100;
          row.appendChild(document.createTextNode(" added"));
        } else {
          failed.push(file.name);
          row.className = "error";
          row.appendChild(document.createTextNode(" " + ((res.problems && res.problems.join(" ")) || res.error || "failed")));
        }
        next();
      };
      xhr.onerror = function () {
        failed.push(file.name);
        row.className = "error";
        row.appendChild(document.createTextNode(" the connection failed; try this file again"));
        next();
      };
      xhr.send(data);
    };
    next();
  });
}());
