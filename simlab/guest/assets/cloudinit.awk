# The subset of YAML cloud-init user-data/meta-data use for the keys the ocplab guest applies.
# busybox has no YAML parser, and this is enough for what the lab writes (and terraform's
# libvirt_cloudinit_disk passes through verbatim).
#
# Understood:
#   - comments (# ...), blank lines, "---"/"..." document markers, CRLF line ends;
#   - top-level "key: scalar" (any key; reported as a "top" record);
#   - scalars on one line: plain (a " #" starts a comment), 'single' ('' escapes a quote),
#     "double" (\" \\ \n \t escapes); "~"/"null" mean empty;
#   - block scalars "|" / ">" (with chomping/indent indicators ignored), as a top-level value
#     or as a runcmd item; ">" folds the lines with spaces;
#   - block sequences, indented or not ("key:\n- item"), and one-line flow sequences
#     "[a, 'b c', \"d\"]" (not nested, not spanning lines);
#   - users: a list of "default" (skipped), plain user names, or mappings with name, shell,
#     homedir, ssh_authorized_keys / ssh-authorized-keys (list, flow list or one string);
#     other fields (groups, sudo, gecos, lock_passwd, ...) and anything nested under them are
#     ignored;
#   - top-level ssh_authorized_keys: keys for root;
#   - runcmd: items that are strings, block scalars or flow lists (a list is shell-quoted word
#     by word and joined with spaces, as cloud-init does).
# Not understood: anchors/aliases, tags, flow mappings, nested or multi-line flow sequences,
# multi-line plain or quoted scalars, block-style nested lists as runcmd items.
#
# Output on stdout, one TAB-separated record per line:
#   top <key> <value> | user <name> | user-shell <name> <shell> | user-home <name> <dir> |
#   key <name> <key> | user-end <name>
# With -v runcmd=PATH, the runcmd items are written to PATH as one shell script (cloud-init
# runs runcmd as one script too), each followed by a printf of "OCPLAB: runcmd rc= cmd=" to
# -v console=PATH (default /dev/console).

function trim(s) { sub(/^[ \t]+/, "", s); sub(/[ \t]+$/, "", s); return s }

function indent_of(s) { match(s, /^ */); return RLENGTH }

# Replaces every occurrence of the fixed string `a` in `s` by `b` (no regex, no escapes).
function replace_all(s, a, b,    out, i) {
    out = ""
    while ((i = index(s, a)) > 0) { out = out substr(s, 1, i - 1) b; s = substr(s, i + length(a)) }
    return out s
}

function shell_quote(s) { return "'" replace_all(s, "'", "'\\''") "'" }

# One scalar written on one line.
function scalar(v,    out, i, c, n) {
    v = trim(v)
    n = length(v)
    if (substr(v, 1, 1) == "'") {
        out = ""
        for (i = 2; i <= n; i++) {
            c = substr(v, i, 1)
            if (c == "'") {
                if (substr(v, i + 1, 1) != "'") break
                i++
            }
            out = out c
        }
        return out
    }
    if (substr(v, 1, 1) == "\"") {
        out = ""
        for (i = 2; i <= n; i++) {
            c = substr(v, i, 1)
            if (c == "\\") {
                i++
                c = substr(v, i, 1)
                if (c == "n") c = "\n"
                else if (c == "t") c = "\t"
            } else if (c == "\"") break
            out = out c
        }
        return out
    }
    sub(/[ \t]+#.*$/, "", v)
    if (v == "~" || v == "null") return ""
    return v
}

# Splits a one-line flow sequence into items[1..n]; returns n.
function flow(v, items,    n, i, c, cur, q, body) {
    split("", items)
    v = trim(v)
    sub(/[ \t]+#[^\]]*$/, "", v)
    body = substr(v, 2)
    sub(/\][ \t]*$/, "", body)
    n = 0; cur = ""; q = ""
    for (i = 1; i <= length(body); i++) {
        c = substr(body, i, 1)
        if (q != "") {
            cur = cur c
            if (q == "\"" && c == "\\") { i++; cur = cur substr(body, i, 1) }
            else if (c == q) q = ""
        } else if (c == "'" || c == "\"") { q = c; cur = cur c }
        else if (c == ",") { items[++n] = scalar(cur); cur = "" }
        else cur = cur c
    }
    if (trim(cur) != "") items[++n] = scalar(cur)
    return n
}

# "key: value" or "key:" -> sets K and V, returns 1.
function kv(s) {
    if (!match(s, /^[^ :#-][^:]*:([ \t]|$)/) && !match(s, /^-[^ :][^:]*:([ \t]|$)/)) return 0
    K = substr(s, 1, RLENGTH)
    sub(/:[ \t]*$/, "", K)
    K = scalar(K)
    V = trim(substr(s, RLENGTH + 1))
    return 1
}

function start_block(ctx, parent, header) {
    blk = 1; blk_ctx = ctx; blk_parent = parent; blk_ind = -1; blk_val = ""
    blk_fold = (substr(header, 1, 1) == ">")
}

function finish_block(    v) {
    blk = 0
    v = blk_val
    sub(/\n+$/, "", v)
    if (blk_fold) v = replace_all(v, "\n", " ")
    if (blk_ctx == "run") add_runcmd(v)
    else emit("top", blk_ctx, v)
}

function emit(kind, a, b) {
    if (b == "") print kind "\t" a
    else print kind "\t" a "\t" b
}

function add_runcmd(cmd,    shown) {
    nrun++
    if (runcmd == "") return
    if (nrun == 1) print "cd /" > runcmd
    print cmd > runcmd
    shown = replace_all(cmd, "\n", "\\n")
    print "printf 'OCPLAB: runcmd rc=%s cmd=%s\\n' \"$?\" " shell_quote(shown) " >" console > runcmd
}

function runcmd_item(rest, ind,    n, i, cmd) {
    if (rest ~ /^[|>]/) { start_block("run", ind, rest); return }
    if (substr(rest, 1, 1) == "[") {
        n = flow(rest, arr)
        cmd = ""
        for (i = 1; i <= n; i++) cmd = cmd (i > 1 ? " " : "") shell_quote(arr[i])
        add_runcmd(cmd)
        return
    }
    add_runcmd(scalar(rest))
}

function end_user(    i) {
    if (user_open && uname != "") {
        emit("user", uname)
        if (ushell != "") emit("user-shell", uname, ushell)
        if (uhome != "") emit("user-home", uname, uhome)
        for (i = 1; i <= nkeys; i++) if (ukeys[i] != "") emit("key", uname, ukeys[i])
        emit("user-end", uname)
    }
    user_open = 0; uname = ""; ushell = ""; uhome = ""; nkeys = 0; ufield = ""; field_ind = -1
    split("", ukeys)
}

function is_keys_field(k) { return k == "ssh_authorized_keys" || k == "ssh-authorized-keys" }

function user_field(k, v,    n, i) {
    ufield = k
    if (k == "name") uname = scalar(v)
    else if (k == "shell") ushell = scalar(v)
    else if (k == "homedir") uhome = scalar(v)
    else if (is_keys_field(k) && v != "") {
        if (substr(v, 1, 1) == "[") {
            n = flow(v, arr)
            for (i = 1; i <= n; i++) ukeys[++nkeys] = arr[i]
        } else ukeys[++nkeys] = scalar(v)
    }
}

function item(ind, s,    off, rest, v) {
    match(s, /^-[ ]*/)
    off = RLENGTH
    rest = trim(substr(s, off + 1))
    if (top == "runcmd") {
        if (seq_ind < 0) seq_ind = ind
        if (ind == seq_ind) runcmd_item(rest, ind)
    } else if (top == "users") {
        if (seq_ind < 0) seq_ind = ind
        if (ind == seq_ind) {
            end_user()
            user_open = 1
            if (rest == "") return
            if (kv(rest)) { field_ind = ind + off; user_field(K, V); return }
            v = scalar(rest)
            if (v == "default") user_open = 0
            else uname = v
        } else if (user_open && is_keys_field(ufield) && ind >= field_ind) {
            ukeys[++nkeys] = scalar(rest)
        }
    } else if (is_keys_field(top)) {
        rootkeys[++nroot] = scalar(rest)
    }
}

function toplevel(s,    n, i) {
    end_user()
    top = ""; seq_ind = -1
    if (!kv(s)) return
    top = K
    if (V == "") return
    if (V ~ /^[|>]/) { start_block(K, 0, V); return }
    if (substr(V, 1, 1) == "[") {
        n = flow(V, arr)
        for (i = 1; i <= n; i++) {
            if (top == "runcmd") add_runcmd(arr[i])
            else if (is_keys_field(top)) rootkeys[++nroot] = arr[i]
        }
        return
    }
    emit("top", K, scalar(V))
}

BEGIN {
    if (console == "") console = "/dev/console"
    blk = 0; top = ""; seq_ind = -1; nrun = 0; nroot = 0; field_ind = -1
    end_user()
}

{
    sub(/\r$/, "")
    line = $0
    if (blk) {
        if (line ~ /^[ \t]*$/) { if (blk_ind >= 0) blk_val = blk_val "\n"; next }
        ind = indent_of(line)
        if (ind > blk_parent) {
            if (blk_ind < 0) blk_ind = ind
            blk_val = blk_val (ind >= blk_ind ? substr(line, blk_ind + 1) : trim(line)) "\n"
            next
        }
        finish_block()
    }
    if (line ~ /^[ \t]*(#.*)?$/ || line ~ /^(---|\.\.\.)([ \t]|$)/) next
    ind = indent_of(line)
    s = substr(line, ind + 1)
    if (s ~ /^-([ \t]|$)/) { item(ind, s); next }
    if (ind == 0) { toplevel(s); next }
    if (top == "users" && user_open && kv(s)) {
        if (field_ind < 0) field_ind = ind
        if (ind == field_ind) user_field(K, V)
    }
}

END {
    if (blk) finish_block()
    end_user()
    if (nroot > 0) {
        user_open = 1; uname = "root"
        for (i = 1; i <= nroot; i++) ukeys[++nkeys] = rootkeys[i]
        end_user()
    }
    if (runcmd != "" && nrun > 0) close(runcmd)
}
