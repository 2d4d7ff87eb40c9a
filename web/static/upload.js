// Upload progress for the Firmware page: sends the upload form with
// XMLHttpRequest so the bar can follow the bytes, then shows the page the
// server redirected to. Without JavaScript the form posts as usual.
(function () {
  "use strict";
  var form = document.getElementById("upload");
  var bar = document.getElementById("upload-progress");
  var label = document.getElementById("upload-status");
  if (!form || !bar || !window.XMLHttpRequest || !window.FormData) {
    return;
  }
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    bar.hidden = false;
    bar.value = 0;
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        bar.max = e.total;
        bar.value = e.loaded;
        label.textContent = Math.floor(100 * e.loaded / e.total) + " %";
        try {
          // What the last upload showed, for the page after it (and tests).
          sessionStorage.setItem("autoprov-upload-progress", e.loaded + "/" + e.total);
        } catch (err) { /* storage off: the bar still works */ }
      }
    });
    xhr.addEventListener("load", function () {
      bar.value = bar.max;
      label.textContent = "done";
      bar.setAttribute("data-done", "true");
      document.open();
      document.write(xhr.responseText);
      document.close();
      if (xhr.responseURL) {
        history.replaceState(null, "", xhr.responseURL);
      }
    });
    xhr.addEventListener("error", function () {
      label.textContent = "the upload failed; try again";
    });
    xhr.send(new FormData(form));
  });
})();
