// Block Kit to DOM, as Slack draws it closely enough that what works here works in Slack:
// header, section (text, fields, accessory), context, divider, actions, input, image,
// and the elements copbot uses. Text goes through Mrkdwn (textContent only).
"use strict";

const BlockKit = (() => {
  const el = Mrkdwn.el;
  const Zones = Mrkdwn.Zones;
  let people = [];
  let channels = [];

  let current = null; // the conversation the person is viewing (default_to_current_conversation)
  function setDirectory(nextPeople, nextChannels, nextCurrent) {
    people = nextPeople; channels = nextChannels; current = nextCurrent || null;
  }

  function optionLabel(option) { return Mrkdwn.decode((option.text && option.text.text) || option.value); }

  // What the page cannot draw: a visible marker, a console error, and a list the browser
  // tests check after every step, so a view or message holding one fails loudly.
  const undrawn = [];
  function cannotDraw(what) {
    undrawn.push(what);
    console.error(`copbot sandbox: ${what} is not drawn by the page`);
    return el("span", "bk-unknown", `[${what} is not drawn by the sandbox]`);
  }

  // the element's own definition travels with its node: its state is read from it
  function field(node, element, blockId) {
    node.dataset.blockId = blockId;
    node.dataset.actionId = element.action_id || "";
    node.dataset.type = element.type;
    node.bk = element;
    return node;
  }

  function withConfirm(element, hooks, go) {
    if (element.confirm) hooks.confirm(element.confirm, go); else go();
  }

  // ---- elements --------------------------------------------------------------------
  function button(element, blockId, hooks) {
    const b = el("button", "bk-button" + (element.style ? " " + element.style : ""));
    b.type = "button";
    Mrkdwn.text(element.text, b);
    b.dataset.actionId = element.action_id || "";
    if (element.accessibility_label) b.setAttribute("aria-label", element.accessibility_label);
    b.addEventListener("click", () => {
      const action = { type: "button", action_id: element.action_id, block_id: blockId,
        text: element.text, value: element.value };
      withConfirm(element, hooks, () => {
        if (element.url) {
          const href = Mrkdwn.safeHref(element.url);
          if (href) window.open(href, "_blank", "noopener");
        }
        hooks.onAction(action);
      });
    });
    return b;
  }

  function allOptions(element) {
    return (element.options || []).concat(...(element.option_groups || []).map((g) => g.options || []));
  }

  function findOption(element, value) { return allOptions(element).find((o) => o.value === value); }

  // a <select> (one, or `multiple`) of [value, label, group] entries
  function selectWith(element, blockId, hooks, entries, initial, multiple) {
    const s = field(el("select", "bk-select" + (multiple ? " bk-multi" : "")), element, blockId);
    s.multiple = !!multiple;
    if (multiple) {
      const groupCount = new Set(entries.map((e) => e[2]).filter(Boolean)).size;
      s.size = Math.min(Math.max(entries.length + groupCount, 2), 8);
      if (element.placeholder) s.title = element.placeholder.text;
    } else {
      const ph = el("option", null, (element.placeholder && element.placeholder.text) || "Select…");
      ph.value = "";
      s.appendChild(ph);
    }
    const groups = {};
    entries.forEach(([value, label, group]) => {
      const o = el("option", null, label);
      o.value = value;
      let into = s;
      if (group) {
        if (!groups[group]) { groups[group] = el("optgroup"); groups[group].label = group; s.appendChild(groups[group]); }
        into = groups[group];
      }
      into.appendChild(o);
    });
    const chosen = new Set([].concat(initial || []));
    [...s.options].forEach((o) => { o.selected = chosen.has(o.value) && o.value !== ""; });
    if (!multiple && !chosen.size) s.value = "";
    let chips = null;
    if (multiple) {
      // Slack shows what is chosen as chips; the list below is where one chooses
      chips = el("div", "bk-chips");
      const drawChips = () => chips.replaceChildren(...[...s.selectedOptions].map((o) => el("span", "bk-chip", o.textContent)));
      drawChips();
      s.addEventListener("change", drawChips);
      s.addEventListener("sandbox-restored", drawChips);
    }
    s.addEventListener("change", () => {
      if (!hooks.dispatch(blockId)) return;
      const state = stateOf(s);
      if (!multiple && !s.value) return;
      const action = Object.assign({ action_id: element.action_id, block_id: blockId }, state);
      withConfirm(element, hooks, () => hooks.onAction(action));
    });
    if (!chips) return s;
    const box = el("div", "bk-multi-box");
    box.appendChild(chips);
    box.appendChild(s);
    return box;
  }

  function staticOptions(element) {
    const out = [];
    (element.options || []).forEach((o) => out.push([o.value, optionLabel(o)]));
    (element.option_groups || []).forEach((g) => (g.options || []).forEach((o) => out.push([o.value, optionLabel(o), Mrkdwn.decode(g.label.text)])));
    return out;
  }

  function conversationEntries(element) {
    const f = element.filter || {};
    return channels.filter((c) => !c.is_im || (f.include || []).includes("im"))
      .map((c) => [c.id, c.is_im ? "@" + c.name : "#" + c.name]);
  }

  function peopleEntries() { return people.map((p) => [p.id, `${p.real_name} (@${p.name})`]); }

  const TEXT_INPUTS = ["plain_text_input", "number_input", "url_text_input", "email_text_input"];
  const SELECTS = {
    "static_select": [staticOptions, (e) => e.initial_option && e.initial_option.value, false],
    "multi_static_select": [staticOptions, (e) => (e.initial_options || []).map((o) => o.value), true],
    "users_select": [peopleEntries, (e) => e.initial_user, false],
    "multi_users_select": [peopleEntries, (e) => e.initial_users, true],
    "conversations_select": [conversationEntries, (e) => e.initial_conversation || (e.default_to_current_conversation ? current : null), false],
    "multi_conversations_select": [conversationEntries, (e) => e.initial_conversations || (e.default_to_current_conversation && current ? [current] : []), true],
    "channels_select": [conversationEntries, (e) => e.initial_channel, false],
    "multi_channels_select": [conversationEntries, (e) => e.initial_channels, true],
  };

  function picker(element, blockId, hooks) {
    const t = element.type;
    const i = field(el("input", "bk-picker"), element, blockId);
    i.type = { datepicker: "date", timepicker: "time", datetimepicker: "datetime-local" }[t];
    if (t === "datepicker") i.value = element.initial_date || "";
    else if (t === "timepicker") i.value = element.initial_time || "";
    else if (element.initial_date_time) i.value = Zones.toLocalInput(element.initial_date_time, viewerZone(element));
    if (t === "timepicker" && element.timezone) i.title = element.timezone;
    i.addEventListener("change", () => {
      if (!hooks.dispatch(blockId) || !i.value) return;
      const action = Object.assign({ action_id: element.action_id, block_id: blockId }, stateOf(i));
      withConfirm(element, hooks, () => hooks.onAction(action));
    });
    return i;
  }

  function textInput(element, blockId) {
    const t = element.type;
    const multi = t === "plain_text_input" && element.multiline;
    const i = field(el(multi ? "textarea" : "input", "bk-text"), element, blockId);
    if (!multi) i.type = { number_input: "number", url_text_input: "url", email_text_input: "email" }[t] || "text";
    if (t === "number_input") {
      i.step = element.is_decimal_allowed ? "any" : "1";
      if (element.min_value !== undefined) i.min = element.min_value;
      if (element.max_value !== undefined) i.max = element.max_value;
    }
    if (element.max_length) i.maxLength = element.max_length;
    i.dataset.minLength = element.min_length || 0;
    i.placeholder = (element.placeholder && element.placeholder.text) || "";
    i.value = element.initial_value || "";
    return i;
  }

  function choices(element, blockId, hooks) {
    const t = element.type;
    const box = field(el("div", "bk-choices"), element, blockId);
    const initial = new Set((element.initial_options || (element.initial_option ? [element.initial_option] : [])).map((o) => o.value));
    const name = `${blockId}-${element.action_id}-${Math.random().toString(36).slice(2)}`;
    (element.options || []).forEach((o) => {
      const label = el("label", "bk-choice");
      const input = el("input");
      input.type = t === "checkboxes" ? "checkbox" : "radio";
      input.name = name;
      input.value = o.value;
      input.checked = initial.has(o.value);
      label.appendChild(input);
      const words = el("span", "bk-choice-words");
      words.appendChild(Mrkdwn.text(o.text, el("span")));
      if (o.description) words.appendChild(Mrkdwn.text(o.description, el("span", "muted bk-description")));
      label.appendChild(words);
      box.appendChild(label);
    });
    box.addEventListener("change", () => {
      if (!hooks.dispatch(blockId)) return;
      const action = Object.assign({ action_id: element.action_id, block_id: blockId }, stateOf(box));
      withConfirm(element, hooks, () => hooks.onAction(action));
    });
    return box;
  }

  function element(element, blockId, hooks) {
    const t = element.type;
    if (t === "button") return button(element, blockId, hooks);
    if (t === "image") return image(element.image_url, element.alt_text, "bk-thumb");
    if (SELECTS[t]) {
      const [entries, initial, multiple] = SELECTS[t];
      return selectWith(element, blockId, hooks, entries(element), initial(element), multiple);
    }
    if (t === "overflow") return overflow(element, blockId, hooks);
    if (t === "datepicker" || t === "timepicker" || t === "datetimepicker") return picker(element, blockId, hooks);
    if (TEXT_INPUTS.includes(t)) return textInput(element, blockId);
    if (t === "checkboxes" || t === "radio_buttons") return choices(element, blockId, hooks);
    return cannotDraw(`the ${t} element`);
  }

  function overflow(element, blockId, hooks) {
    const wrap = el("span", "bk-overflow");
    const b = el("button", "bk-button", "⋯");
    b.type = "button";
    b.setAttribute("aria-label", "more actions");
    const menu = el("div", "bk-menu");
    menu.hidden = true;
    (element.options || []).forEach((o) => {
      const item = el("button", "bk-menu-item", optionLabel(o));
      item.type = "button";
      item.addEventListener("click", () => {
        menu.hidden = true;
        withConfirm(element, hooks, () => {
          const href = o.url && Mrkdwn.safeHref(o.url);
          if (href) window.open(href, "_blank", "noopener");
          hooks.onAction({ type: "overflow", action_id: element.action_id, block_id: blockId, selected_option: o });
        });
      });
      menu.appendChild(item);
    });
    b.addEventListener("click", () => { menu.hidden = !menu.hidden; });
    wrap.appendChild(b);
    wrap.appendChild(menu);
    return wrap;
  }

  function image(url, alt, cls) {
    const href = Mrkdwn.safeHref(url || "");
    const local = href && new URL(href, location.href).origin === location.origin;
    if (local) {
      const img = el("img", cls);
      img.src = href;
      img.alt = alt || "";
      return img;
    }
    // nothing reaches the internet: a remote image is shown as its alt text
    const box = el("span", cls + " bk-image-offline", `🖼 ${alt || "image"}`);
    box.title = url || "";
    return box;
  }

  // ---- blocks ----------------------------------------------------------------------
  function block(b, hooks) {
    const blockId = b.block_id || "";
    const t = b.type;
    let node;
    if (t === "header") node = Mrkdwn.text(b.text, el("h3", "bk-header"));
    else if (t === "divider") node = el("hr", "bk-divider");
    else if (t === "section") {
      node = el("div", "bk-section");
      const body = el("div", "bk-section-body");
      if (b.text) body.appendChild(Mrkdwn.text(b.text, el("div", "bk-text-block")));
      if (b.fields) {
        const grid = el("div", "bk-fields");
        b.fields.forEach((f) => grid.appendChild(Mrkdwn.text(f, el("div", "bk-field"))));
        body.appendChild(grid);
      }
      node.appendChild(body);
      if (b.accessory) {
        const acc = el("div", "bk-accessory");
        acc.appendChild(element(b.accessory, blockId, hooks));
        node.appendChild(acc);
      }
    } else if (t === "context") {
      node = el("div", "bk-context");
      (b.elements || []).forEach((e) => {
        node.appendChild(e.type === "image" ? image(e.image_url, e.alt_text, "bk-context-img") : Mrkdwn.text(e, el("span")));
      });
    } else if (t === "actions") {
      node = el("div", "bk-actions");
      (b.elements || []).forEach((e) => node.appendChild(element(e, blockId, hooks)));
    } else if (t === "input") {
      node = el("div", "bk-input");
      const label = el("label", "bk-label");
      Mrkdwn.text(b.label, label);
      if (b.optional) label.appendChild(el("span", "muted", " (optional)"));
      node.appendChild(label);
      const e = element(b.element, blockId, hooks);
      node.appendChild(e);
      if (b.hint) node.appendChild(Mrkdwn.text(b.hint, el("div", "bk-hint")));
      node.dataset.optional = b.optional ? "1" : "";
      const error = hooks.errors && hooks.errors[blockId];
      if (error) {
        node.classList.add("has-error");
        node.appendChild(el("div", "bk-error", error));
      }
    } else if (t === "image") {
      node = el("figure", "bk-image");
      if (b.title) node.appendChild(Mrkdwn.text(b.title, el("figcaption")));
      node.appendChild(image(b.image_url, b.alt_text, "bk-img"));
    } else if (t === "rich_text") {
      node = richText(b.elements || [], el("div", "bk-rich"));
    } else if (t === "table") {
      node = table(b);
    } else {
      node = el("div", "bk-undrawn");
      node.appendChild(cannotDraw(`the ${t} block`));
    }
    node.dataset.blockId = blockId;
    node.dataset.blockType = t;
    return node;
  }

  // ---- rich text (rich_text blocks and table cells) ------------------------------------
  function richText(elements, into) {
    elements.forEach((part) => {
      const t = part.type;
      if (t === "rich_text_section") into.appendChild(richInline(part.elements || [], el("div")));
      else if (t === "rich_text_quote") into.appendChild(richInline(part.elements || [], el("blockquote")));
      else if (t === "rich_text_preformatted") into.appendChild(richInline(part.elements || [], el("pre")));
      else if (t === "rich_text_list") {
        const list = el(part.style === "ordered" ? "ol" : "ul", "bk-list");
        (part.elements || []).forEach((item) => list.appendChild(richInline(item.elements || [], el("li"))));
        into.appendChild(list);
      } else into.appendChild(cannotDraw(`the ${t} rich text part`));
    });
    return into;
  }

  function richInline(parts, into) {
    parts.forEach((x) => {
      let node;
      if (x.type === "text") node = document.createTextNode(x.text || "");
      else if (x.type === "link") {
        const href = Mrkdwn.safeHref(x.url || "");
        node = href ? el("a", "link", x.text || x.url) : document.createTextNode(x.text || x.url || "");
        if (href) { node.href = href; node.target = "_blank"; node.rel = "noopener noreferrer"; }
      } else if (x.type === "emoji") node = document.createTextNode(Mrkdwn.emoji(`:${x.name}:`));
      else if (x.type === "user") node = Mrkdwn.render(`<@${x.user_id}>`, el("span"));
      else if (x.type === "channel") node = Mrkdwn.render(`<#${x.channel_id}>`, el("span"));
      else if (x.type === "date") node = Mrkdwn.render(`<!date^${x.timestamp}^${x.format}|${x.fallback || ""}>`, el("span"));
      else if (x.type === "broadcast") node = el("span", "mention broadcast", "@" + x.range);
      else { into.appendChild(cannotDraw(`the ${x.type} rich text element`)); return; }
      const style = x.style || {};
      [["code", "code"], ["strike", "s"], ["italic", "em"], ["bold", "strong"]].forEach(([key, tag]) => {
        if (style[key]) { const wrap = el(tag); wrap.appendChild(node); node = wrap; }
      });
      into.appendChild(node);
    });
    return into;
  }

  // the table block: rows of raw_text or rich_text cells, the first row its header
  function table(b) {
    const node = el("div", "bk-table-wrap");
    const t = el("table", "bk-table");
    const settings = b.column_settings || [];
    (b.rows || []).forEach((row, r) => {
      const tr = el("tr");
      row.forEach((cell, c) => {
        const td = el(r === 0 ? "th" : "td");
        const s = settings[c] || {};
        if (s.align) td.style.textAlign = s.align;
        if (s.is_wrapped) td.classList.add("wrapped");
        if (cell.type === "raw_text") td.textContent = cell.text || "";
        else if (cell.type === "rich_text") richText(cell.elements || [], td);
        else td.appendChild(cannotDraw(`the ${cell.type} table cell`));
        tr.appendChild(td);
      });
      t.appendChild(tr);
    });
    node.appendChild(t);
    return node;
  }

  function render(blocks, hooks) {
    const box = el("div", "bk");
    (blocks || []).forEach((b) => box.appendChild(block(b, hooks)));
    return box;
  }

  // ---- state, as Slack sends it in view.state.values / state.values -----------------------
  // Selected options are the option objects as the view defined them (Slack sends them
  // back as given); people, conversations and channels by id; datetimes as UNIX seconds.
  function viewerZone() { return Mrkdwn.zone(); }

  function stateOf(node) {
    const t = node.dataset.type;
    const element = node.bk || {};
    const chosen = () => node.tagName === "SELECT"
      ? [...node.selectedOptions].map((o) => o.value).filter((v) => v !== "")
      : [...node.querySelectorAll("input:checked")].map((i) => i.value);
    if (TEXT_INPUTS.includes(t)) return { type: t, value: node.value === "" ? null : node.value };
    if (t === "datepicker") return { type: t, selected_date: node.value || null };
    if (t === "timepicker") {
      const v = { type: t, selected_time: node.value || null };
      if (element.timezone) v.timezone = element.timezone;
      return v;
    }
    if (t === "datetimepicker") return { type: t, selected_date_time: node.value ? Zones.fromLocalInput(node.value, viewerZone()) : null };
    if (t === "static_select" || t === "radio_buttons") {
      const [value] = chosen();
      return { type: t, selected_option: value === undefined ? null : findOption(element, value) || null };
    }
    if (t === "multi_static_select" || t === "checkboxes") {
      return { type: t, selected_options: chosen().map((v) => findOption(element, v)).filter(Boolean) };
    }
    const ids = { users_select: "selected_user", conversations_select: "selected_conversation", channels_select: "selected_channel" };
    if (ids[t]) return { type: t, [ids[t]]: chosen()[0] || null };
    const many = { multi_users_select: "selected_users", multi_conversations_select: "selected_conversations", multi_channels_select: "selected_channels" };
    if (many[t]) return { type: t, [many[t]]: chosen() };
    return null;
  }

  function values(root) {
    const out = {};
    root.querySelectorAll("[data-type]").forEach((node) => {
      const v = stateOf(node);
      if (v) (out[node.dataset.blockId] = out[node.dataset.blockId] || {})[node.dataset.actionId] = v;
    });
    return out;
  }

  // Slack's client checks required inputs and lengths before anything is sent
  function missing(root) {
    const errors = {};
    root.querySelectorAll(".bk-input").forEach((node) => {
      const field = node.querySelector("[data-type]");
      if (!field) return;
      const blockId = node.dataset.blockId;
      const t = field.dataset.type;
      let empty;
      if (t === "checkboxes" || t === "radio_buttons") empty = !field.querySelector("input:checked");
      else if (field.multiple) empty = !field.selectedOptions.length;
      else empty = !field.value;
      const most = field.bk && field.bk.max_selected_items;
      if (field.multiple && most && field.selectedOptions.length > most) errors[blockId] = `Please choose at most ${most}.`;
      if (empty && !node.dataset.optional) errors[blockId] = "Please complete this required field.";
      const min = +field.dataset.minLength || 0;
      if (!empty && t === "datetimepicker" && !field.checkValidity()) errors[blockId] = "Please enter a valid date and time.";
      if (!empty && min && field.value.length < min) errors[blockId] = `Please enter at least ${min} characters.`;
      if (!empty && t === "number_input" && !field.checkValidity()) errors[blockId] = "Please enter a valid number.";
    });
    return errors;
  }

  return { render, values, missing, setDirectory, undrawn, stateOf };
})();
