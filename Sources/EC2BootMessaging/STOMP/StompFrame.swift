/// One STOMP 1.2 frame: a command, headers in order (the first of a repeated name wins), a body.
public struct StompFrame: Sendable, Equatable, CustomStringConvertible {
    public var command: String
    public var headers: [Header]
    public var body: [UInt8]

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(_ command: String, _ headers: [(String, String)] = [], body: [UInt8] = []) {
        self.command = command
        self.headers = headers.map { Header($0.0, $0.1) }
        self.body = body
    }

    public subscript(_ name: String) -> String? {
        headers.first { $0.name == name }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Never the headers' values: a CONNECT frame carries the passcode.
    public var description: String { "\(command) frame" }

    /// CONNECT and CONNECTED frames are not escaped (STOMP 1.2, "Value Encoding").
    var escapesHeaders: Bool { command != "CONNECT" && command != "CONNECTED" && command != "STOMP" }

    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case ":": out += "\\c"
            default: out.append(character)
            }
        }
        return out
    }

    /// nil for an undefined escape sequence, which 1.2 says is a fatal protocol error.
    static func unescape(_ text: Substring) -> String? {
        var out = ""
        var iterator = text.makeIterator()
        while let character = iterator.next() {
            guard character == "\\" else { out.append(character); continue }
            switch iterator.next() {
            case "\\": out += "\\"
            case "r": out += "\r"
            case "n": out += "\n"
            case "c": out += ":"
            default: return nil
            }
        }
        return out
    }
}
