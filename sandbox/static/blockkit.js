// Block Kit to DOM, as Slack draws it closely enough that what works here works in Slack:
// header, section (text, fields, accessory), context, divider, actions, input, image,
// and the elements copbot uses. Text goes through Mrkdwn (textContent only).
"use strict";

const BlockKit = (() => {
  const el = Mrkdwn.el;
  let people = [];
  let channels = [];

  function setDirectory(nextPeople, nextChannels) { people = nextPeople; channels = nextChannels; }

  function optionLabel(option) { return Mrkdwn.decode((option.text && option.text.text) || option.value); }

  // ---- elements --------------------------------------------------------------------
  function button(element, blockId, hooks) {
    const b = el("button", "bk-button" + (element.style ? " " + element.style : ""));
    b.type = "button";
    Mrkdwn.text(element.text, b);
    b.dataset.actionId = element.action_id || "";
    b.addEventListener("click", () => {
      const action = { type: "button", action_id: element.action_id, block_id: blockId,
        text: element.text, value: element.value };
      if (element.url) {
        const href = Mrkdwn.safeHref(element.url);
        if (href) window.open(href, "_blank", "noopener");
      }
      const go = () => hooks.onAction(action);
      if (element.confirm) hooks.confirm(element.confirm, go); else go();
    });
    return b;
  }

  function selectWith(element, blockId, hooks, entries, initial, toAction) {
    const s = el("select", "bk-select");
    s.dataset.blockId = blockId;
    s.dataset.actionId = element.action_id || "";
    s.dataset.type = element.type;
    const ph = el("option", null, (element.placeholder && element.placeholder.text) || "Select…");
    ph.value = "";
    s.appendChild(ph);
    entries.forEach(([value, label, group]) => {
      const o = el("option", null, label);
      o.value = value;
      if (group) o.dataset.group = group;
      s.appendChild(o);
    });
    if (initial) s.value = initial;
    s.addEventListener("change", () => {
      if (hooks.dispatch(blockId) && s.value) {
        const action = Object.assign({ type: element.type, action_id: element.action_id, block_id: blockId }, toAction(s.value));
        if (element.confirm) hooks.confirm(element.confirm, () => hooks.onAction(action));
        else hooks.onAction(action);
      }
    });
    return s;
  }

  function staticOptions(element) {
    const out = [];
    (element.options || []).forEach((o) => out.push([o.value, optionLabel(o)]));
    (element.option_groups || []).forEach((g) => g.options.forEach((o) => out.push([o.value, optionLabel(o), g.label.text])));
    return out;
  }

  function findOption(element, value) {
    const all = (element.options || []).concat(...(element.option_groups || []).map((g) => g.options));
    return all.find((o) => o.value === value);
  }

  function element(element, blockId, hooks) {
    const t = element.type;
    if (t === "button") return button(element, blockId, hooks);
    if (t === "image") {
      return image(element.image_url, element.alt_text, "bk-thumb");
    }
    if (t === "static_select") {
      return selectWith(element, blockId, hooks, staticOptions(element),
        element.initial_option && element.initial_option.value,
        (v) => ({ selected_option: findOption(element, v) }));
    }
    if (t === "users_select") {
      return selectWith(element, blockId, hooks, people.map((p) => [p.id, `${p.real_name} (@${p.name})`]),
        element.initial_user, (v) => ({ selected_user: v }));
    }
    if (t === "conversations_select" || t === "channels_select") {
      const key = t === "channels_select" ? "selected_channel" : "selected_conversation";
      return selectWith(element, blockId, hooks, channels.filter((c) => !c.is_im).map((c) => [c.id, "#" + c.name]),
        element.initial_conversation || element.initial_channel, (v) => ({ [key]: v }));
    }
    if (t === "overflow") return overflow(element, blockId, hooks);
    if (t === "datepicker" || t === "timepicker") {
      const i = el("input", "bk-picker");
      i.type = t === "datepicker" ? "date" : "time";
      i.dataset.blockId = blockId;
      i.dataset.actionId = element.action_id || "";
      i.dataset.type = t;
      i.value = element.initial_date || element.initial_time || "";
      i.addEventListener("change", () => {
        if (!hooks.dispatch(blockId)) return;
        const key = t === "datepicker" ? "selected_date" : "selected_time";
        hooks.onAction({ type: t, action_id: element.action_id, block_id: blockId, [key]: i.value });
      });
      return i;
    }
    if (["plain_text_input", "number_input", "url_text_input", "email_text_input"].includes(t)) {
      const multi = t === "plain_text_input" && element.multiline;
      const i = el(multi ? "textarea" : "input", "bk-text");
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
      i.dataset.blockId = blockId;
      i.dataset.actionId = element.action_id || "";
      i.dataset.type = t;
      return i;
    }
    if (t === "checkboxes" || t === "radio_buttons") {
      const box = el("div", "bk-choices");
      box.dataset.blockId = blockId;
      box.dataset.actionId = element.action_id || "";
      box.dataset.type = t;
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
        label.appendChild(Mrkdwn.text(o.text, el("span")));
        if (o.description) label.appendChild(Mrkdwn.text(o.description, el("span", "muted")));
        box.appendChild(label);
      });
      return box;
    }
    return el("span", "bk-unknown", `[${t} is not drawn by the sandbox]`);
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
        const go = () => hooks.onAction({ type: "overflow", action_id: element.action_id, block_id: blockId, selected_option: o });
        if (element.confirm) hooks.confirm(element.confirm, go); else go();
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
      node = el("div", "bk-rich", JSON.stringify(b.elements).length ? "" : "");
      (b.elements || []).forEach((s) => (s.elements || []).forEach((x) => node.appendChild(el("span", null, x.text || ""))));
    } else {
      node = el("div", "bk-unknown", `[${t} block is not drawn by the sandbox]`);
    }
    node.dataset.blockId = blockId;
    node.dataset.blockType = t;
    return node;
  }

  function render(blocks, hooks) {
    const box = el("div", "bk");
    (blocks || []).forEach((b) => box.appendChild(block(b, hooks)));
    return box;
  }

  // ---- state, as Slack sends it in view.state.values / state.values -----------------------
  function values(root) {
    const out = {};
    root.querySelectorAll("[data-type]").forEach((node) => {
      const t = node.dataset.type;
      const blockId = node.dataset.blockId;
      const actionId = node.dataset.actionId;
      let v;
      if (["plain_text_input", "number_input", "url_text_input", "email_text_input"].includes(t)) {
        v = { type: t, value: node.value === "" ? null : node.value };
      } else if (t === "datepicker") v = { type: t, selected_date: node.value || null };
      else if (t === "timepicker") v = { type: t, selected_time: node.value || null };
      else if (t === "users_select") v = { type: t, selected_user: node.value || null };
      else if (t === "conversations_select") v = { type: t, selected_conversation: node.value || null };
      else if (t === "channels_select") v = { type: t, selected_channel: node.value || null };
      else if (t === "static_select") {
        const option = node.value ? { text: { type: "plain_text", text: node.selectedOptions[0].textContent }, value: node.value } : null;
        v = { type: t, selected_option: option };
      } else if (t === "checkboxes") {
        v = { type: t, selected_options: [...node.querySelectorAll("input:checked")].map((i) => ({ text: { type: "plain_text", text: i.parentNode.textContent }, value: i.value })) };
      } else if (t === "radio_buttons") {
        const i = node.querySelector("input:checked");
        v = { type: t, selected_option: i ? { text: { type: "plain_text", text: i.parentNode.textContent }, value: i.value } : null };
      }
      if (v) (out[blockId] = out[blockId] || {})[actionId] = v;
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
      else empty = !field.value;
      if (empty && !node.dataset.optional) errors[blockId] = "Please complete this required field.";
      const min = +field.dataset.minLength || 0;
      if (!empty && min && field.value.length < min) errors[blockId] = `Please enter at least ${min} characters.`;
      if (!empty && t === "number_input" && !field.checkValidity()) errors[blockId] = "Please enter a valid number.";
    });
    return errors;
  }

  return { render, values, missing, setDirectory };
})();
