import NIOCore

/// Bytes → frames. Skips heart-beat EOLs between frames, honours `content-length`, and refuses a
/// frame larger than `maxFrameBytes` (a broker, or something posing as one, cannot fill memory).
struct StompFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = StompFrame
    let maxFrameBytes: Int

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        while let byte = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self), byte == 0x0A || byte == 0x0D {
            buffer.moveReaderIndex(forwardBy: 1)
        }
        guard buffer.readableBytes > 0 else { return .needMoreData }
        let bytes = buffer.readableBytesView
        guard let (headEnd, bodyStart) = Self.endOfHeaders(bytes) else {
            if bytes.count > maxFrameBytes { throw StompError.protocolError("a frame's headers exceed \(maxFrameBytes) bytes") }
            return .needMoreData
        }
        // Lines split on the bytes: as a String, "\r\n" would be one Character and never split on "\n".
        var lines = bytes[bytes.startIndex..<headEnd].split(separator: 0x0A, omittingEmptySubsequences: false).map { line in
            Substring(String(decoding: line.last == 0x0D ? line.dropLast() : line[...], as: UTF8.self))
        }
        let command = String(lines.removeFirst())
        var frame = StompFrame(command)
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { throw StompError.protocolError("a header line without ':' in a \(command) frame") }
            let rawName = line[..<colon], rawValue = line[line.index(after: colon)...]
            if frame.escapesHeaders {
                guard let name = StompFrame.unescape(rawName), let value = StompFrame.unescape(rawValue) else {
                    throw StompError.protocolError("an undefined escape in a \(command) frame's header")
                }
                frame.headers.append(.init(name, value))
            } else {
                frame.headers.append(.init(String(rawName), String(rawValue)))
            }
        }
        let bodyEnd: Int
        if let text = frame["content-length"] {
            guard let length = Int(text), length >= 0, length <= maxFrameBytes else {
                throw StompError.protocolError("content-length \(text) is not a length up to \(maxFrameBytes)")
            }
            guard bytes.endIndex - bodyStart > length else { return .needMoreData }
            guard bytes[bodyStart + length] == 0 else { throw StompError.protocolError("a \(command) frame's body does not end with NUL") }
            bodyEnd = bodyStart + length
        } else {
            guard let nul = bytes[bodyStart...].firstIndex(of: 0) else {
                if bytes.count > maxFrameBytes { throw StompError.protocolError("a frame exceeds \(maxFrameBytes) bytes") }
                return .needMoreData
            }
            bodyEnd = nul
        }
        frame.body = Array(bytes[bodyStart..<bodyEnd])
        buffer.moveReaderIndex(forwardBy: bodyEnd + 1 - bytes.startIndex)
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    /// Where the headers end (the blank line) and the body starts.
    static func endOfHeaders(_ bytes: ByteBufferView) -> (Int, Int)? {
        var index = bytes.startIndex
        while let newline = bytes[index...].firstIndex(of: 0x0A) {
            let next = newline + 1
            if next < bytes.endIndex, bytes[next] == 0x0A { return (newline, next + 1) }
            if next + 1 < bytes.endIndex, bytes[next] == 0x0D, bytes[next + 1] == 0x0A { return (newline, next + 2) }
            if next >= bytes.endIndex { return nil }
            index = next
        }
        return nil
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}

/// Frames → bytes, with `content-length` on every frame that has a body.
struct StompFrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = StompFrame

    func encode(data frame: StompFrame, out: inout ByteBuffer) throws {
        out.writeString(frame.command + "\n")
        var headers = frame.headers
        if !frame.body.isEmpty && !headers.contains(where: { $0.name == "content-length" }) {
            headers.append(.init("content-length", String(frame.body.count)))
        }
        for header in headers {
            let name = frame.escapesHeaders ? StompFrame.escape(header.name) : header.name
            let value = frame.escapesHeaders ? StompFrame.escape(header.value) : header.value
            out.writeString(name + ":" + value + "\n")
        }
        out.writeString("\n")
        out.writeBytes(frame.body)
        out.writeInteger(UInt8(0))
    }
}

public enum StompError: Error, CustomStringConvertible, Sendable {
    /// The broker's ERROR frame: its `message` header (and body's first line).
    case broker(String)
    case protocolError(String)
    case timedOut(String)
    case closed(String)
    /// Could not reach the broker until the deadline: the last reason.
    case unreachable(String)
    case tls(String)

    public var description: String {
        switch self {
        case .broker(let message): return "the broker said: \(message)"
        case .protocolError(let message): return "STOMP protocol error: \(message)"
        case .timedOut(let what): return "timed out \(what)"
        case .closed(let what): return "the broker closed the connection \(what)"
        case .unreachable(let reason): return "cannot reach the broker: \(reason)"
        case .tls(let reason): return "TLS: \(reason)"
        }
    }
}
