
/// A runcmd or bootcmd entry: a string is a line of shell as it is; a list is one command whose
/// words are each quoted (cloud-init's `util.shellify`).
public enum ShellCommand: Decodable, Sendable, Equatable {
    case line(String)
    case words([String])
    case none

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .none; return }
        if let words = try? c.decode([String].self) { self = .words(words); return }
        self = .line(try c.decode(String.self))
    }
}

enum Shellify {
    /// The script cloud-init writes for runcmd and bootcmd, byte for byte.
    static func script(_ commands: [ShellCommand]) -> String {
        var text = "#!/bin/sh\n"
        for command in commands {
            switch command {
            case .line(let line): text += line + "\n"
            case .words(let words): text += words.map(quote).joined(separator: " ") + "\n"
            case .none: continue
            }
        }
        return text
    }

    /// runcmd_fail_fast: the same commands under `set -e`, each announced, so the first that
    /// fails stops the script and the last line says which.
    static func failFastScript(_ commands: [ShellCommand], name: String) -> String {
        var text = "#!/bin/sh\nset -e\n_ec2boot_at=-1\n"
        text += "trap '_ec2boot_rc=$?; [ \"$_ec2boot_rc\" -eq 0 ] || echo \"\(name)[$_ec2boot_at] failed (exit $_ec2boot_rc); the rest did not run\" >&2' EXIT\n"
        for (index, command) in commands.enumerated() where command != .none {
            text += "_ec2boot_at=\(index)\n" + String(script([command]).dropFirst("#!/bin/sh\n".count))
        }
        return text
    }

    static func quote(_ word: String) -> String {
        "'" + word.replacing("'", with: "'\\''") + "'"
    }

    /// Values as Python's str() prints them inside a list entry (`1.20` → `1.2`, `0644` → `420`,
    /// `yes` → `True`, `~` → `None`), since cloud-init quotes what PyYAML made of them (`YAML11.pythonString`).
    static func adapt(_ list: Node?) -> Node? {
        guard case .sequence(let sequence)? = list else { return list }
        let items = sequence.map { item -> Node in
            guard case .sequence(let words) = item else { return item }
            return .sequence(Node.Sequence(words.map(pythonText), words.tag, words.style, words.mark))
        }
        return .sequence(Node.Sequence(items, sequence.tag, sequence.style, sequence.mark))
    }

    private static func pythonText(_ node: Node) -> Node {
        guard case .scalar(let scalar) = node, let text = YAML11.pythonString(scalar) else { return node }
        return .scalar(Node.Scalar(text, Tag(.str), .singleQuoted, scalar.mark))
    }
}
