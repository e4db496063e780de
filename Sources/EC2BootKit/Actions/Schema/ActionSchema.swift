
/// What an action type takes, declared once beside its code, as cloud-init's modules declare
/// their schema. The plan checks every action's keys against it (unknown, missing, the wrong
/// shape) before the typed decoder reads the values; `schema` and docs/actions.md print it.
public struct ActionSchema: Sendable {
    /// One line: what the action does.
    public let summary: String
    public let parameters: [Parameter]
    /// A small valid parameter mapping (YAML): `schema TYPE` shows it, the tests decode it.
    public let example: String
    /// Other names a parameter is written by in user-data people already have (the Ruby tool's
    /// `master` for puppet's `server`): alias → parameter.
    public let aliases: [String: String]

    public init(_ summary: String, example: String, aliases: [String: String] = [:], _ parameters: [Parameter]) {
        self.summary = summary
        self.example = example
        self.aliases = aliases
        self.parameters = parameters
    }

    public struct Parameter: Sendable {
        public let name: String
        public let kind: Kind
        public let required: Bool
        /// The value an absent key means, as a person would write it; nil when absence means "none".
        public let defaultValue: String?
        public let description: String
        /// Kept out of logs and status, and shown as such in the docs.
        public let secret: Bool
    }

    /// A parameter's type as the docs name it, and the YAML shapes it accepts.
    public struct Kind: Sendable {
        public let name: String
        let shapes: Set<Shape>

        enum Shape: Sendable { case scalar, list, mapping }

        public static let string = Kind(name: "string", shapes: [.scalar])
        public static let number = Kind(name: "number", shapes: [.scalar])
        public static let seconds = Kind(name: "seconds", shapes: [.scalar])
        public static let boolean = Kind(name: "boolean", shapes: [.scalar])
        public static let url = Kind(name: "URL", shapes: [.scalar])
        public static let strings = Kind(name: "list of strings", shapes: [.list])
        public static let mappings = Kind(name: "list of mappings", shapes: [.list])
        public static let mapping = Kind(name: "mapping", shapes: [.mapping])
        /// cloud-init's `mounts`: a list of fstab entries, each a list of fields.
        public static let lists = Kind(name: "list of lists", shapes: [.list])
        /// A string, or a list (cloud-init's `users: default,deploy` or `users: [...]`).
        public static let stringOrList = Kind(name: "string or list", shapes: [.scalar, .list])
        /// A string, a list or a mapping (cloud-init's `groups`).
        public static let anyShape = Kind(name: "string, list or mapping", shapes: [.scalar, .list, .mapping])
        /// Any YAML value (a hosted action's parameters, Chef's attributes are mappings).
        public static let scalarOrMapping = Kind(name: "string or mapping", shapes: [.scalar, .mapping])

        /// One of a string enum's values.
        public static func choice<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> Kind where T.RawValue == String {
            Kind(name: T.allCases.map(\.rawValue).joined(separator: " | "), shapes: [.scalar])
        }
    }
}

extension ActionSchema.Parameter {
    /// A key the action cannot run without.
    public static func required(_ name: String, _ kind: ActionSchema.Kind, secret: Bool = false, _ description: String) -> Self {
        Self(name: name, kind: kind, required: true, defaultValue: nil, description: description, secret: secret)
    }

    /// A key with a default (`nil`: absent means none).
    public static func optional(_ name: String, _ kind: ActionSchema.Kind, default value: String? = nil, secret: Bool = false,
                                _ description: String) -> Self {
        Self(name: name, kind: kind, required: false, defaultValue: value, description: description, secret: secret)
    }
}

extension ActionSchema {
    /// The keys every package-installing action takes (`SetupOptions`).
    public static func setup(package: String, service: String?) -> [Parameter] {
        var keys: [Parameter] = [
            .optional("install", .boolean, default: "true", "install the package when it is missing"),
            .optional("package", .string, default: package, "the package's name"),
            .optional("version", .string, "the package version to install (the package manager's own syntax)"),
        ]
        if let service {
            keys.append(.optional(service, .boolean, default: "true", "enable and (re)start the service"))
        }
        return keys
    }

    /// Unknown keys, missing required ones and values of the wrong shape, each with its line.
    /// The mapping with each alias renamed to its parameter; both given is a problem.
    func resolvingAliases(_ mapping: Node.Mapping, source: String, keyPrefix: String) throws(YAMLProblem) -> Node.Mapping {
        guard !aliases.isEmpty else { return mapping }
        var pairs: [(Node, Node)] = []
        for (key, value) in mapping {
            guard let name = key.string, let target = aliases[name] else {
                pairs.append((key, value))
                continue
            }
            guard mapping[target] == nil else {
                throw YAMLProblem(source: source, mark: key.mark, message: "\(keyPrefix)\(name): another name for \(target); give one of them")
            }
            pairs.append((.scalar(Node.Scalar(target, Tag(.str), .plain, key.mark)), value))
        }
        return Node.Mapping(pairs, mapping.tag, mapping.style, mapping.mark)
    }

    /// Every problem of the parameters, not only the first: thrown as the first, the rest in its `also`.
    func check(_ mapping: Node.Mapping, source: String, keyPrefix: String) throws(YAMLProblem) {
        let known = Dictionary(parameters.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var found: [YAMLProblem] = []
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard let parameter = known[name] else {
                found.append(YAMLProblem(source: source, mark: key.mark, message:
                    "\(keyPrefix)\(name): unknown key (known: \(known.keys.sorted().joined(separator: ", ")))"
                    + Suggestion.hint(name, among: known.keys.sorted())))
                continue
            }
            if let shape = Kind.Shape(value), !parameter.kind.shapes.contains(shape) {
                let expected = parameter.kind.shapes.contains(.list) ? "a list"
                    : parameter.kind.shapes.contains(.mapping) ? "a mapping" : "a single value"
                found.append(YAMLProblem(source: source, mark: key.mark, message: "\(keyPrefix)\(name): expected \(expected)"))
            }
        }
        for missing in parameters where missing.required && mapping[missing.name] == nil {
            found.append(YAMLProblem(source: source, mark: mapping.mark, message: "\(keyPrefix)\(missing.name): missing (required)"))
        }
        guard var first = found.first else { return }
        first.also = Array(found.dropFirst())
        throw first
    }
}

extension ActionSchema.Kind.Shape {
    init?(_ node: Node) {
        switch node {
        case .scalar: self = .scalar
        case .sequence: self = .list
        case .mapping: self = .mapping
        }
    }
}
