/*
 * The gallery's behaviour, on top of pages that work without it: BlurHash placeholders,
 * times in the viewer's own time zone, infinite scroll, and drag-and-drop upload straight to S3
 * through upload sessions.
 */
(function () {
  "use strict";
  var PLACEHOLDER_SIZE = 32;
  var PARALLEL_UPLOADS = 3;
  var csrfToken = document.querySelector('meta[name="csrf-token"]').getAttribute("content");

  // Paint each [data-blurhash] element from its hash until its image has loaded.
  function paint(root) {
    root.querySelectorAll("[data-blurhash]:not([data-painted])").forEach(function (element) {
      element.setAttribute("data-painted", "");
      var colour = element.getAttribute("data-color");
      if (colour) { element.style.backgroundColor = colour; }
      var hash = element.getAttribute("data-blurhash");
      if (hash && window.blurhashDecode) {
        try {
          var canvas = document.createElement("canvas");
          canvas.width = canvas.height = PLACEHOLDER_SIZE;
          var context = canvas.getContext("2d");
          var pixels = context.createImageData(PLACEHOLDER_SIZE, PLACEHOLDER_SIZE);
          pixels.data.set(window.blurhashDecode(hash, PLACEHOLDER_SIZE, PLACEHOLDER_SIZE));
          context.putImageData(pixels, 0, 0);
          element.style.backgroundImage = "url(" + canvas.toDataURL() + ")";
        } catch (error) {
          // A malformed hash leaves the dominant colour.
        }
      }
      var image = element.querySelector("img");
      if (!image) { return; }
      var shown = function () { element.classList.add("loaded"); };
      if (image.complete && image.naturalWidth) { shown(); } else { image.addEventListener("load", shown); }
    });
  }

  // Each <time datetime> in the viewer's time zone and language; the server's words stay as the
  // tooltip. A time without a zone (a camera's clock) is shown as it was recorded.
  function localTimes(root) {
    if (!window.Intl) { return; }
    root.querySelectorAll("time[datetime]").forEach(function (element) {
      var value = element.getAttribute("datetime");
      var zoned = /(Z|[+-]\d\d:\d\d)$/.test(value);
      var moment = new Date(zoned ? value : value + "Z");
      if (isNaN(moment.getTime())) { return; }
      var options = { dateStyle: "medium", timeStyle: "short" };
      if (!zoned) { options.timeZone = "UTC"; }
      element.title = element.textContent;
      element.textContent = new Intl.DateTimeFormat(undefined, options).format(moment);
    });
  }

  // Fetch the next tiles when the "More" link comes near the viewport.
  function infiniteScroll() {
    var more = document.getElementById("more");
    var grid = document.getElementById("grid");
    if (!more || !grid || !("IntersectionObserver" in window)) { return; }
    var busy = false;
    var observer = new IntersectionObserver(function (entries) {
      if (busy || !entries.some(function (entry) { return entry.isIntersecting; })) { return; }
      busy = true;
      fetch(more.getAttribute("data-tiles"), { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.text().then(function (html) {
            grid.insertAdjacentHTML("beforeend", html);
            paint(grid);
            var tiles = response.headers.get("X-Next-Tiles");
            if (!tiles) { observer.disconnect(); more.remove(); return; }
            more.setAttribute("data-tiles", tiles);
            more.href = response.headers.get("X-Next-Page");
            busy = false;
            // Observe again: a link still in view (short pages) fires once more.
            observer.unobserve(more);
            observer.observe(more);
          });
        })
        .catch(function () { busy = false; });
    }, { rootMargin: "600px 0px" });
    observer.observe(more);
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (answer) {
        if (!response.ok) { throw new Error(answer.message || "HTTP " + response.status); }
        return answer;
      });
    });
  }

  // One request to S3 with upload progress; resolves with the XMLHttpRequest.
  function send(method, url, body, progress) {
    return new Promise(function (resolve, reject) {
      var request = new XMLHttpRequest();
      request.open(method, url);
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) { progress(event.loaded); }
      });
      request.addEventListener("load", function () {
        if (request.status >= 200 && request.status < 300) { resolve(request); } else { reject(new Error("storage answered " + request.status)); }
      });
      request.addEventListener("error", function () { reject(new Error("storage could not be reached")); });
      request.send(body);
    });
  }

  function sendForm(ticket, file, progress) {
    var form = new FormData();
    Object.keys(ticket.fields).forEach(function (name) { form.append(name, ticket.fields[name]); });
    form.append("file", file);
    return send("POST", ticket.url, form, progress).then(function () { return []; });
  }

  // Multipart (files above the service's threshold): one PUT per part, in order.
  function sendParts(ticket, file, progress) {
    var sent = 0;
    var parts = [];
    return ticket.parts.reduce(function (previous, part) {
      return previous.then(function () {
        var start = (part.part_number - 1) * ticket.part_size;
        var slice = file.slice(start, start + ticket.part_size);
        return send("PUT", part.url, slice, function (loaded) { progress(sent + loaded); })
          .then(function (request) {
            sent += slice.size;
            parts.push({ part_number: part.part_number, etag: request.getResponseHeader("ETag") });
          });
      });
    }, Promise.resolve()).then(function () { return parts; });
  }

  function uploadRow(list, file) {
    var row = document.createElement("li");
    var name = document.createElement("span");
    var bar = document.createElement("progress");
    var status = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    bar.max = file.size || 1;
    bar.value = 0;
    status.className = "status";
    status.textContent = "waiting";
    row.append(name, bar, status);
    list.append(row);
    return {
      progress: function (loaded) { bar.value = loaded; status.textContent = Math.round(100 * loaded / bar.max) + "%"; },
      state: function (text, kind) { status.textContent = text; if (kind) { row.className = kind; } }
    };
  }

  function dropzone() {
    var zone = document.getElementById("dropzone");
    if (!zone) { return; }
    var list = document.getElementById("uploads");
    var picker = document.getElementById("file-input");
    var tagsInput = document.getElementById("upload-tags");
    var userInput = document.getElementById("upload-user");
    var grid = document.getElementById("grid");
    var queue = [];
    var running = 0;

    function uploadOne(job) {
      var file = job.file;
      var body = { filename: file.name, content_type: file.type || "application/octet-stream", size: file.size, tags: job.tags };
      if (userInput) { body.user_id = userInput.value.trim(); }
      job.ui.state("starting");
      return postJson(zone.getAttribute("data-start"), body).then(function (ticket) {
        var upload = ticket.method === "POST" ? sendForm : sendParts;
        return upload(ticket, file, job.ui.progress).then(function (parts) {
          job.ui.state("checking");
          var complete = zone.getAttribute("data-complete").replace("UPLOAD_ID", ticket.upload_id);
          return postJson(complete, { parts: parts });
        });
      }).then(function (done) {
        job.ui.progress(file.size);
        job.ui.state(done.duplicate ? "already there" : "done", "done");
        if (!done.duplicate) {
          grid.insertAdjacentHTML("afterbegin", done.tile);
          paint(grid);
        }
      }, function (error) {
        job.ui.state("failed: " + error.message, "failed");
      });
    }

    function next() {
      while (running < PARALLEL_UPLOADS && queue.length) {
        running += 1;
        uploadOne(queue.shift()).then(function () { running -= 1; next(); });
      }
    }

    function add(files) {
      var tags = tagsInput.value.split(",").map(function (tag) { return tag.trim(); }).filter(Boolean);
      Array.prototype.forEach.call(files, function (file) {
        queue.push({ file: file, tags: tags, ui: uploadRow(list, file) });
      });
      next();
    }

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (event) { event.preventDefault(); zone.classList.remove("over"); });
    });
    zone.addEventListener("drop", function (event) { add(event.dataTransfer.files); });
    picker.addEventListener("change", function () { add(picker.files); picker.value = ""; });
  }

  document.documentElement.classList.add("js");
  paint(document);
  localTimes(document);
  infiniteScroll();
  dropzone();
})();
