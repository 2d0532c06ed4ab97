// The sandbox page: person switcher, channels, messages with threads, the composer with
// /cop suggestions, App Home, modals, confirm dialogs, Slack's errors, and the clock.
// State comes from /api/state (long-poll); all Slack text is drawn by Mrkdwn/BlockKit.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const el = Mrkdwn.el;
  const app = {
    config: null, user: null, pane: null, state: null, version: 0, poll: 0,
    thread: null, modalKey: null,
  };

  async function api(path, body) {
    const res = await fetch(path, body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    return res.json();
  }

  function person(id) { return app.config.people.find((p) => p.id === id); }

  // ---- start ----------------------------------------------------------------------
  async function start() {
    app.config = await api("/api/config");
    const select = $("person");
    app.config.people.forEach((p) => {
      const o = el("option", null, p.real_name);
      o.value = p.id;
      select.appendChild(o);
    });
    const wanted = new URLSearchParams(location.search).get("as");
    app.user = person(wanted) ? wanted : app.config.people[1].id;
    select.value = app.user;
    select.addEventListener("change", () => switchTo(select.value));
    document.querySelectorAll("#topbar [data-step]").forEach((b) => b.addEventListener("click", () => moveClock(b.dataset.step)));
    $("nav-home").addEventListener("click", () => openHome());
    $("nav-messages").addEventListener("click", () => show("dm"));
    setupComposer();
    setupModal();
    switchTo(app.user);
  }

  function switchTo(userId) {
    app.user = userId;
    app.version = -1;
    app.thread = null;
    app.modalKey = null;
    app.pane = app.pane || app.config.start_channel || "CGENERAL1";
    $("person-tz").textContent = `in ${person(userId).tz}`;
    const url = new URL(location.href);
    url.searchParams.set("as", userId);
    history.replaceState(null, "", url);
    const mine = ++app.poll;
    refresh(mine);
  }

  async function refresh(mine) {
    while (mine === app.poll) {
      let state;
      try {
        state = await api(`/api/state?user=${encodeURIComponent(app.user)}&since=${app.version}`);
      } catch (e) {
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (mine !== app.poll) return;
      app.state = state;
      app.version = state.version;
      draw();
    }
  }

  function nudge() { const mine = ++app.poll; app.version = -1; refresh(mine); }

  // ---- drawing ----------------------------------------------------------------------
  function draw() {
    const s = app.state;
    const viewer = person(app.user);
    const channels = {};
    s.channels.forEach((c) => { channels[c.id] = c; });
    Mrkdwn.setContext({ users: s.users, channels, tz: viewer.tz, now: new Date(s.now) });
    BlockKit.setDirectory(app.config.people, s.channels, currentChannel());
    $("clock").textContent = Mrkdwn.formatDate(Date.parse(s.now) / 1000, "{date_short}, {time}", viewer.tz);
    $("clock").dateTime = s.now;
    drawPeople();
    drawChannels();
    drawPane();
    drawProblems();
    drawModal();
  }

  // the switcher says what each person is, from copbot's records (staff, leader of X…)
  function drawPeople() {
    [...$("person").options].forEach((o) => {
      const p = person(o.value);
      o.textContent = `${p.real_name} · ${app.state.roles[o.value] || ""}`;
    });
    $("person").title = $("person").selectedOptions[0].textContent;
  }

  function dmId() {
    const c = app.state.channels.find((x) => x.is_im && x.user === app.user);
    return c && c.id;
  }

  function drawChannels() {
    const list = $("channel-list");
    list.replaceChildren();
    app.state.channels.filter((c) => !c.is_im).forEach((c) => {
      const b = el("button", "nav channel" + (app.pane === c.id ? " active" : ""), "# " + c.name);
      b.type = "button";
      b.dataset.channel = c.id;
      b.addEventListener("click", () => show(c.id));
      list.appendChild(b);
    });
    $("nav-home").classList.toggle("active", app.pane === "home");
    $("nav-messages").classList.toggle("active", app.pane === "dm");
  }

  function show(pane) {
    app.scrolledOnce = false;
    app.pane = pane;
    app.thread = null;
    $("thread-chip").hidden = true;
    draw();
  }

  function currentChannel() { return app.pane === "dm" ? dmId() : app.pane === "home" ? null : app.pane; }

  function drawPane() {
    const pane = $("pane");
    const wasAtBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
    pane.replaceChildren();
    const composer = $("composer-wrap");
    if (app.pane === "home") {
      $("pane-title").textContent = "copbot · Home";
      composer.hidden = true;
      const home = app.state.home;
      if (!home) pane.appendChild(el("p", "muted", "Opening App Home…"));
      else pane.appendChild(blocks(home.blocks, { view_id: home.id, surface: "home" }));
      return;
    }
    composer.hidden = false;
    const channelId = currentChannel();
    const channel = app.state.channels.find((c) => c.id === channelId);
    $("pane-title").textContent = app.pane === "dm" ? "copbot · Messages" : "# " + (channel ? channel.name : "");
    $("composer").placeholder = app.pane === "dm" ? "Message copbot, or /cop …" : `Message #${channel ? channel.name : ""}, or /cop …`;
    const inChannel = app.state.messages.filter((m) => m.channel === channelId);
    const top = inChannel.filter((m) => !m.thread_ts || m.thread_ts === m.ts);
    const problems = app.state.problems.filter((p) => p.channel === channelId);
    const timeline = top.map((m) => ({ seq: m.seq, m })).concat(
      problems.filter((p) => !p.ts || !inChannel.some((m) => m.ts === p.ts)).map((p) => ({ seq: p.seq, p })));
    timeline.sort((a, b) => a.seq - b.seq);
    if (!timeline.length) pane.appendChild(el("p", "muted empty", "No messages yet. Try /cop help."));
    timeline.forEach((item) => {
      if (item.p) { pane.appendChild(problemNode(item.p)); return; }
      const m = item.m;
      const node = messageNode(m);
      problems.filter((p) => p.ts === m.ts).forEach((p) => node.appendChild(problemNode(p)));
      const replies = inChannel.filter((r) => r.thread_ts === m.ts && r.ts !== m.ts);
      if (replies.length) {
        const thread = el("div", "thread");
        thread.appendChild(el("div", "thread-count", replies.length === 1 ? "1 reply" : `${replies.length} replies`));
        replies.forEach((r) => {
          const rn = messageNode(r);
          problems.filter((p) => p.ts === r.ts).forEach((p) => rn.appendChild(problemNode(p)));
          thread.appendChild(rn);
        });
        node.appendChild(thread);
      }
      pane.appendChild(node);
    });
    if (wasAtBottom || !app.scrolledOnce) { pane.scrollTop = pane.scrollHeight; app.scrolledOnce = true; }
  }

  function messageNode(m) {
    const node = el("article", "message" + (m.ephemeral_to ? " ephemeral" : ""));
    node.dataset.ts = m.ts;
    const head = el("div", "message-head");
    const isBot = m.user === app.config.bot.id;
    const who = isBot ? "copbot" : (app.state.users[m.user] || {}).real_name || m.user;
    head.appendChild(el("span", "avatar", who.slice(0, 1).toUpperCase()));
    head.appendChild(el("strong", "author", who));
    if (isBot) head.appendChild(el("span", "badge", "APP"));
    head.appendChild(el("span", "muted when", Mrkdwn.formatDate(Math.floor(+m.ts), "{date_short_pretty} {time}", person(app.user).tz)));
    if (m.edited) head.appendChild(el("span", "muted", "(edited)"));
    const reply = el("button", "reply", "Reply in thread");
    reply.type = "button";
    reply.addEventListener("click", () => {
      app.thread = m.thread_ts || m.ts;
      $("thread-chip").hidden = false;
      $("composer").focus();
    });
    head.appendChild(reply);
    if (!m.ephemeral_to && app.config.message_shortcuts.length) head.appendChild(moreActions(m));
    node.appendChild(head);
    if (m.ephemeral_to) node.appendChild(el("div", "only-you", "Only visible to you"));
    if (m.blocks && m.blocks.length) node.appendChild(blocks(m.blocks, { channel: m.channel, ts: m.ts }));
    else if (m.text || !(m.files || []).length) node.appendChild(Mrkdwn.render(m.text, el("div", "mrkdwn")));
    (m.files || []).forEach((f) => node.appendChild(fileNode(f)));
    return node;
  }

  // a file shared in the conversation, as Slack shows it: name, kind, size, download
  function fileNode(f) {
    const box = el("div", "file");
    box.dataset.fileId = f.id;
    box.appendChild(el("span", "file-icon", "📄"));
    const words = el("div", "file-words");
    words.appendChild(el("strong", "file-title", f.title || f.name));
    const kb = f.size < 1024 ? `${f.size} B` : `${(f.size / 1024).toFixed(1)} KB`;
    words.appendChild(el("div", "muted", `${f.name} · ${kb}`));
    box.appendChild(words);
    const a = el("a", "file-download", "Download");
    a.href = `/files/${encodeURIComponent(f.id)}?user=${encodeURIComponent(app.user)}`;
    a.download = f.name;
    box.appendChild(a);
    return box;
  }

  // the message's hover menu: the app's message shortcuts (app_manifest.yml)
  function moreActions(m) {
    const wrap = el("span", "more-actions");
    const b = el("button", "more", "⋮");
    b.type = "button";
    b.title = "More actions";
    b.setAttribute("aria-label", "More actions");
    const menu = el("div", "bk-menu");
    menu.hidden = true;
    app.config.message_shortcuts.forEach((s) => {
      const item = el("button", "bk-menu-item", s.name);
      item.type = "button";
      item.dataset.callbackId = s.callback_id;
      item.addEventListener("click", async () => {
        menu.hidden = true;
        await api("/api/shortcut", { user: app.user, channel: m.channel, ts: m.ts, callback_id: s.callback_id });
      });
      menu.appendChild(item);
    });
    b.addEventListener("click", () => { menu.hidden = !menu.hidden; });
    wrap.appendChild(b);
    wrap.appendChild(menu);
    return wrap;
  }

  function problemNode(p) {
    const box = el("div", "problem");
    box.dataset.error = p.error;
    const what = p.method === "slash command" || (p.cause && p.cause.startsWith("/") && p.method === p.cause)
      ? `${p.cause.split(" ").slice(0, 2).join(" ")} failed with the error "${p.error}"`
      : `Slack refused ${p.method}: ${p.error}`;
    box.appendChild(el("strong", null, "⚠ " + what));
    const more = [p.detail, p.cause && p.method !== p.cause ? `after: ${p.cause}` : ""].filter(Boolean).join(" · ");
    if (more) box.appendChild(el("div", "muted", more));
    return box;
  }

  function drawProblems() {
    const bar = $("problem-bar");
    bar.replaceChildren();
    const loose = app.state.problems.filter((p) => !p.channel).slice(-3);
    loose.forEach((p) => bar.appendChild(problemNode(p)));
  }

  // a click carries the state of its surface's inputs, as Slack's block_actions does:
  // the view's (modal, Home) or the message's (state.values)
  function blocks(list, where) {
    let drawn = null;
    drawn = BlockKit.render(list, {
      errors: where.errors,
      dispatch: (blockId) => where.surface !== "modal" || !isInput(where, blockId),
      confirm: confirmDialog,
      onAction: async (action) => {
        const root = where.root ? where.root() : drawn;
        const values = root ? BlockKit.values(root) : {};
        await api("/api/action", { user: app.user, action, channel: where.channel, ts: where.ts, view_id: where.view_id, values });
      },
    });
    return drawn;
  }

  function isInput(where, blockId) {
    const view = app.state.modal && app.state.modal.view;
    return !!(view && view.blocks.some((b) => b.block_id === blockId && b.type === "input" && !b.dispatch_action));
  }

  // ---- App Home ---------------------------------------------------------------------
  async function openHome() {
    show("home");
    await api("/api/home", { user: app.user });
  }

  // ---- modals -----------------------------------------------------------------------
  function setupModal() {
    $("modal-x").addEventListener("click", () => api("/api/close", { user: app.user, all: true }));
    $("modal-close").addEventListener("click", () => api("/api/close", { user: app.user, all: false }));
    $("modal-back").addEventListener("click", () => api("/api/close", { user: app.user, all: false }));
    $("modal-submit").addEventListener("click", submitModal);
  }

  function drawModal() {
    const modal = app.state.modal;
    const overlay = $("modal-overlay");
    if (!modal) { overlay.hidden = true; app.modalKey = null; return; }
    const view = modal.view;
    const key = `${view.id}:${view.hash}:${JSON.stringify(modal.errors)}`;
    overlay.hidden = false;
    if (key === app.modalKey) return; // same view: keep what the person is typing
    const sameView = app.modalKey && app.modalKey.startsWith(`${view.id}:${view.hash}:`);
    const typed = sameView ? BlockKit.values($("modal-body")) : null;
    app.modalKey = key;
    Mrkdwn.plain(view.title && view.title.text, $("modal-title"));
    $("modal-back").hidden = modal.depth < 2;
    $("modal-submit").hidden = !view.submit;
    if (view.submit) Mrkdwn.plain(view.submit.text, $("modal-submit"));
    Mrkdwn.plain((view.close && view.close.text) || "Cancel", $("modal-close"));
    const body = $("modal-body");
    body.replaceChildren(blocks(view.blocks, { view_id: view.id, surface: "modal", errors: modal.errors, root: () => body }));
    if (typed) restore(body, typed);
    if (!sameView) {
      // a view opened, pushed or replaced starts at its top, as in Slack
      body.scrollTop = 0;
      const focus = body.querySelectorAll("[data-type]");
      const wanted = [...focus].find((n) => n.bk && n.bk.focus_on_load);
      if (wanted) wanted.focus({ preventScroll: true });
    }
  }

  // what the person had typed, put back after a redraw of the same view
  function restore(root, values) {
    root.querySelectorAll("[data-type]").forEach((node) => {
      const v = (values[node.dataset.blockId] || {})[node.dataset.actionId];
      if (!v) return;
      if (node.dataset.type === "datetimepicker") {
        node.value = v.selected_date_time ? Mrkdwn.Zones.toLocalInput(v.selected_date_time, Mrkdwn.zone()) : "";
        return;
      }
      if ("value" in v && v.value !== null) node.value = v.value;
      ["selected_date", "selected_time"].forEach((k) => { if (v[k]) node.value = v[k]; });
      const options = v.selected_options || (v.selected_option ? [v.selected_option] : []);
      const ids = [].concat(v.selected_user || v.selected_conversation || v.selected_channel || [],
        v.selected_users || v.selected_conversations || v.selected_channels || []);
      const chosen = new Set(options.map((o) => o.value).concat(ids));
      if (node.tagName === "SELECT") {
        [...node.options].forEach((o) => { o.selected = chosen.has(o.value); });
        node.dispatchEvent(new Event("sandbox-restored"));
      }
      node.querySelectorAll("input[type=checkbox],input[type=radio]").forEach((i) => { i.checked = chosen.has(i.value); });
    });
  }

  async function submitModal() {
    const body = $("modal-body");
    const missing = BlockKit.missing(body);
    const view = app.state.modal.view;
    if (Object.keys(missing).length) {
      const typed = BlockKit.values(body);
      body.replaceChildren(blocks(view.blocks, { view_id: view.id, surface: "modal", errors: missing, root: () => body }));
      restore(body, typed);
      app.modalKey = null;
      return;
    }
    $("modal-submit").disabled = true;
    try {
      await api("/api/submit", { user: app.user, view_id: view.id, values: BlockKit.values(body) });
    } finally {
      $("modal-submit").disabled = false;
    }
  }

  function confirmDialog(confirm, go) {
    const overlay = $("confirm-overlay");
    Mrkdwn.text(confirm.title, $("confirm-title"));
    $("confirm-text").replaceChildren(Mrkdwn.text(confirm.text, el("div")));
    Mrkdwn.text(confirm.confirm || { type: "plain_text", text: "Yes" }, $("confirm-ok"));
    Mrkdwn.text(confirm.deny || { type: "plain_text", text: "Cancel" }, $("confirm-deny"));
    $("confirm-ok").className = confirm.style === "danger" ? "danger" : "primary";
    overlay.hidden = false;
    $("confirm-ok").onclick = () => { overlay.hidden = true; go(); };
    $("confirm-deny").onclick = () => { overlay.hidden = true; };
  }

  // ---- composer ---------------------------------------------------------------------
  function setupComposer() {
    const input = $("composer");
    input.addEventListener("input", suggest);
    input.addEventListener("keydown", (e) => {
      const first = $("suggestions").querySelector("li");
      if ((e.key === "Tab") && first && !$("suggestions").hidden) {
        e.preventDefault();
        first.click();
      } else if (e.key === "Enter") {
        e.preventDefault();
        send();
      } else if (e.key === "Escape") {
        $("suggestions").hidden = true;
      }
    });
    $("thread-cancel").addEventListener("click", () => { app.thread = null; $("thread-chip").hidden = true; });
  }

  function suggest() {
    const list = $("suggestions");
    const text = $("composer").value;
    list.replaceChildren();
    let matches = [];
    if (/^\/c?o?p?$/.test(text) && text.length) {
      matches = [{ fill: "/cop ", usage: "/cop [subcommand]", summary: "copbot: your Community of Practice" }];
    } else {
      const m = /^\/cop (\S*)$/.exec(text);
      if (m) {
        matches = app.config.subcommands.filter((s) => s.name.startsWith(m[1].toLowerCase()))
          .map((s) => ({ fill: `/cop ${s.name} `, usage: s.usage, summary: s.summary }));
      }
    }
    matches.forEach((s) => {
      const li = el("li", "suggestion");
      li.setAttribute("role", "option");
      li.appendChild(el("code", null, s.usage));
      li.appendChild(el("span", "muted", " " + s.summary));
      li.addEventListener("mousedown", (e) => e.preventDefault());
      li.addEventListener("click", () => {
        $("composer").value = s.fill;
        $("composer").focus();
        suggest();
      });
      list.appendChild(li);
    });
    list.hidden = !matches.length;
  }

  async function send() {
    const input = $("composer");
    const text = input.value.trim();
    if (!text) return;
    const channel = currentChannel();
    input.value = "";
    $("suggestions").hidden = true;
    if (text.startsWith("/")) {
      await api("/api/command", { user: app.user, channel, text });
    } else {
      await api("/api/say", { user: app.user, channel, text, thread_ts: app.thread });
    }
  }

  // ---- clock -------------------------------------------------------------------------
  async function moveClock(step) {
    document.querySelectorAll("#topbar [data-step]").forEach((b) => { b.disabled = true; });
    try {
      const res = await api("/api/clock", { step });
      $("clock-note").textContent = res.ok ? res.summary : res.error;
    } finally {
      document.querySelectorAll("#topbar [data-step]").forEach((b) => { b.disabled = false; });
    }
  }

  window.copbotSandbox = { nudge, undrawn: BlockKit.undrawn };
  start();
})();
