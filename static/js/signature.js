// Drawn signature for the consent form. Without JavaScript the pad stays
// hidden and the typed signature field is the way to sign; with it, the
// drawing is written as a PNG data URL into the hidden signature_data field
// when the form is submitted.
(function () {
  "use strict";
  var box = document.querySelector("[data-signature-pad]");
  var form = document.getElementById("sign-form");
  var out = document.getElementById("signature_data");
  if (!box || !form || !out || typeof window.SignaturePad !== "function") {
    return;
  }
  var canvas = box.querySelector("canvas");
  box.hidden = false;
  var pad = new window.SignaturePad(canvas, { backgroundColor: "rgb(255,255,255)", penColor: "rgb(16,32,96)" });

  // Match the canvas to its displayed size so strokes land under the finger.
  function resize() {
    var ratio = Math.max(window.devicePixelRatio || 1, 1);
    var data = pad.toData();
    canvas.width = canvas.offsetWidth * ratio;
    canvas.height = canvas.offsetHeight * ratio;
    canvas.getContext("2d").scale(ratio, ratio);
    pad.clear();
    pad.fromData(data);
  }
  window.addEventListener("resize", resize);
  resize();

  box.querySelector("[data-signature-clear]").addEventListener("click", function () {
    pad.clear();
    out.value = "";
  });
  form.addEventListener("submit", function () {
    out.value = pad.isEmpty() ? "" : pad.toDataURL("image/png");
  });
})();
