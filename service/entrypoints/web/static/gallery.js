/*
 * The gallery's behaviour, on top of pages that work without it: BlurHash placeholders,
 * times in the viewer's own time zone, infinite scroll, and drag-and-drop upload straight to S3
 * through upload sessions, each watched while the service processes it.
 */
(function () {
  "use strict";
  var PLACEHOLDER_SIZE = 32;
  var PARALLEL_UPLOADS = 3;
  // Watching a PROCESSING upload: as often as its Retry-After says, within these bounds.
  var WATCH_DEFAULT_SECONDS = 1;
  var WATCH_MIN_SECONDS = 0.5;
  var WATCH_MAX_SECONDS = 5;
  var WATCH_FOR_SECONDS = 15 * 60;
  // What some browsers leave without a type (file.type empty): the name tells.
  var TYPE_BY_SUFFIX = { heic: "image/heic", heif: "image/heif", avif: "image/avif" };
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

  // A JSON answer; an error answer rejects with its message (and its status, as .status).
  function jsonOf(response) {
    return response.json().catch(function () { return {}; }).then(function (answer) {
      if (!response.ok) {
        var error = new Error(answer.message || "HTTP " + response.status);
        error.status = response.status;
        throw error;
      }
      var seconds = parseFloat(response.headers.get("Retry-After"));
      return { answer: answer, retryAfter: isNaN(seconds) ? null : seconds, location: response.headers.get("Location") };
    });
  }

  function postJson(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken },
      body: JSON.stringify(body)
    }).then(jsonOf);
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(jsonOf);
  }

  function later(seconds) {
    return new Promise(function (resolve) { setTimeout(resolve, seconds * 1000); });
  }

  // Ask again about a PROCESSING upload until it is READY or FAILED: as its Retry-After says,
  // through lost connections and server errors, for WATCH_FOR_SECONDS at most.
  function watch(url, retryAfter, deadline) {
    var wait = retryAfter === null ? WATCH_DEFAULT_SECONDS : retryAfter;
    wait = Math.min(WATCH_MAX_SECONDS, Math.max(WATCH_MIN_SECONDS, wait));
    if (Date.now() + wait * 1000 > deadline) { return Promise.resolve({ status: "PROCESSING" }); }
    return later(wait).then(function () { return getJson(url); }).then(function (reply) {
      if (reply.answer.status !== "PROCESSING") { return reply.answer; }
      return watch(url, reply.retryAfter, deadline);
    }, function (error) {
      if (error.status && error.status < 500) { throw error; }
      return watch(url, null, deadline);
    });
  }

  function contentType(file) {
    if (file.type) { return file.type; }
    var suffix = file.name.split(".").pop().toLowerCase();
    return TYPE_BY_SUFFIX[suffix] || "application/octet-stream";
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
      var body = { filename: file.name, content_type: contentType(file), size: file.size, tags: job.tags };
      if (userInput) { body.user_id = userInput.value.trim(); }
      job.ui.state("starting");
      return postJson(zone.getAttribute("data-start"), body).then(function (started) {
        var ticket = started.answer;
        var upload = ticket.method === "POST" ? sendForm : sendParts;
        return upload(ticket, file, job.ui.progress).then(function (parts) {
          job.ui.state("checking");
          var complete = zone.getAttribute("data-complete").replace("UPLOAD_ID", ticket.upload_id);
          return postJson(complete, { parts: parts });
        });
      }).then(function (completed) {
        // The bytes are in: the next file may start while the service processes this one.
        job.ui.progress(file.size);
        settle(job, completed);
      }, function (error) {
        job.ui.state("failed: " + error.message, "failed");
      });
    }

    // A completed upload: READY shows its tile; PROCESSING shows a processing tile first,
    // first in the grid, until the watch ends; FAILED says why.
    function settle(job, completed) {
      var session = completed.answer;
      if (session.status !== "PROCESSING") { finish(job, session, null); return; }
      job.ui.state("processing");
      var tile = processingTile(job.file.name);
      var deadline = Date.now() + WATCH_FOR_SECONDS * 1000;
      var url = completed.location || zone.getAttribute("data-watch").replace("UPLOAD_ID", session.upload_id);
      watch(url, completed.retryAfter, deadline).then(function (outcome) {
        finish(job, outcome, tile);
      }, function (error) {
        finish(job, { status: "FAILED", failure: error.message }, tile);
      });
    }

    function finish(job, session, tile) {
      if (session.status === "READY") {
        job.ui.state(session.duplicate ? "already there" : "done", "done");
        // A duplicate is an image the grid already has: no second tile.
        var html = session.duplicate ? "" : session.tile || "";
        if (tile) { tile.replace(html); } else { grid.insertAdjacentHTML("afterbegin", html); }
        paint(grid);
      } else if (session.status === "FAILED") {
        job.ui.state("failed: " + session.failure, "failed");
        if (tile) { tile.say("Upload failed: " + session.failure, "failed"); }
      } else {
        job.ui.state("still processing: reload the page later");
        if (tile) { tile.say("Still processing: reload the page later", "stalled"); }
      }
    }

    // A tile that stands for an upload the service is processing, until its image's replaces it.
    function processingTile(name) {
      var tile = document.createElement("li");
      var box = document.createElement("div");
      var label = document.createElement("span");
      var note = document.createElement("span");
      tile.className = "tile pending processing";
      box.className = "pending-box";
      box.setAttribute("role", "status");
      label.className = "name";
      label.textContent = name;
      note.className = "note";
      note.textContent = "Processing…";
      box.append(label, note);
      tile.append(box);
      grid.prepend(tile);
      return {
        replace: function (html) { tile.insertAdjacentHTML("afterend", html); tile.remove(); },
        // kind: "failed" (an alert) or "stalled"
        say: function (text, kind) {
          tile.className = "tile pending " + kind;
          box.setAttribute("role", kind === "failed" ? "alert" : "status");
          note.textContent = text;
        }
      };
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
