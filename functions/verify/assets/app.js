// The verification page. The token travels in the URL fragment, which the
// browser never sends to a server or a proxy; it is taken out of the address
// bar at once, so a reload, the history or a bookmark never holds it, and
// the password is shown once and never stored in the page's state.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  let token = location.hash.length > 1 ? decodeURIComponent(location.hash.slice(1)) : null;
  history.replaceState(null, "", location.pathname);

  const WHAT = { reset: "reset the password of", unlock: "unlock" };

  function show(id) {
    for (const s of ["ask", "report", "push", "done"]) $(s).hidden = s !== id;
  }

  function status(text) {
    $("status").textContent = text;
  }

  async function post(body) {
    const r = await fetch(location.pathname, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
    let json = {};
    try { json = await r.json(); } catch (_) { /* answered below */ }
    return { status: r.status, json };
  }

  function invalid(json) {
    token = null;
    show(null);
    status((json.error && json.error.message) || "This link is not valid.");
  }

  async function describe() {
    if (!token) {
      status("Open the link from your message to continue. A link works once.");
      return;
    }
    const { status: code, json } = await post({ step: "describe", token });
    if (code !== 200) return invalid(json);
    const when = new Date(json.asked_at).toLocaleString();
    const asked = "Someone asked the helpdesk to " + WHAT[json.action] + " " + json.account +
      " at " + when + " through " + json.intake + ".";
    if (json.report) {
      $("report-what").textContent = asked + " If that wasn't you, report it.";
      status("");
      show("report");
      return;
    }
    $("what").textContent = asked + " Was it you?";
    $("code-label").hidden = !json.needs_code;
    status("");
    show("ask");
  }

  async function confirm() {
    if (!token) return;
    $("confirm").disabled = true;
    const body = { step: "confirm", token };
    if (!$("code-label").hidden) body.code = $("code").value.trim();
    const { status: code, json } = await post(body);
    $("confirm").disabled = false;
    if (code === 202 && json.status === "push_sent") {
      show("push");
      status("");
      if (json.number) {
        $("number").textContent = String(json.number);
        $("number-hint").hidden = false;
      }
      setTimeout(confirm, 2000);
      return;
    }
    if (code !== 200) return invalid(json);
    token = null;
    show("done");
    status("");
    if (json.status === "escalated") {
      $("done-text").textContent = json.message;
      return;
    }
    if (json.temporary_password) {
      $("done-text").textContent = "The password of " + json.account + " was reset.";
      $("password").textContent = json.temporary_password;
      $("secret").hidden = false;
    } else {
      $("done-text").textContent = json.account + " is unlocked. You can sign in again.";
    }
  }

  async function report() {
    if (!token) return;
    $("not-me").disabled = true;
    const { status: code, json } = await post({ step: "report", token });
    if (code !== 200) return invalid(json);
    token = null;
    show("done");
    status("");
    $("done-text").textContent = json.message;
  }

  async function copy() {
    try {
      await navigator.clipboard.writeText($("password").textContent);
      $("copy").textContent = "Copied";
    } catch (_) {
      $("copy").textContent = "Select and copy it";
    }
  }

  $("confirm").addEventListener("click", confirm);
  $("not-me").addEventListener("click", report);
  $("copy").addEventListener("click", copy);
  window.addEventListener("pageshow", (e) => {
    // Back/forward cache: never show a revealed password again.
    if (e.persisted) { $("password").textContent = ""; $("secret").hidden = true; }
  });
  describe();
})();
