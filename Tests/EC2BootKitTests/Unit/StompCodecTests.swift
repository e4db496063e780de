import NIOCore
import NIOEmbedded
import Testing
@testable import EC2BootMessaging

extension UnitTier {
    /// STOMP 1.2 frames through the codec on NIO's EmbeddedChannel: no broker, no socket (unit tier).
    @Suite struct StompCodecTests {
        @Test func framesRoundTripWithEscapesLengthsAndHeartBeats() throws {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(StompFrameDecoder(maxFrameBytes: 4096)))
            try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(StompFrameEncoder()))
            let sent = StompFrame("SEND", [("destination", "/topic/a:b"), ("note", "line1\nline2\\c")], body: Array("a\u{0}binary body".utf8))
            try channel.writeOutbound(sent)
            var wire = try #require(try channel.readOutbound(as: ByteBuffer.self))
            let text = wire.getString(at: wire.readerIndex, length: wire.readableBytes)!
            #expect(text.hasPrefix("SEND\ndestination:/topic/a\\cb\nnote:line1\\nline2\\\\c\ncontent-length:13\n\n"))
            // Heart-beat EOLs before it, and the bytes arriving one at a time.
            var input = channel.allocator.buffer(string: "\n\r\n")
            input.writeBuffer(&wire)
            while let byte = input.readSlice(length: 1) { try channel.writeInbound(byte) }
            let received = try #require(try channel.readInbound(as: StompFrame.self))
            #expect(received.command == "SEND" && received["note"] == "line1\nline2\\c" && received["destination"] == "/topic/a:b")
            #expect(received.body == Array("a\u{0}binary body".utf8))
            // CONNECTED is not unescaped (STOMP 1.2), and a body without content-length ends at NUL.
            try channel.writeInbound(channel.allocator.buffer(string: "CONNECTED\nversion:1.2\nserver:x\\cy\n\nhi\u{0}"))
            let connected = try #require(try channel.readInbound(as: StompFrame.self))
            #expect(connected["server"] == "x\\cy" && connected.bodyText == "hi")
            // CRLF line ends (allowed by 1.2) are not part of names or values.
            try channel.writeInbound(channel.allocator.buffer(string: "RECEIPT\r\nreceipt-id:r-1\r\n\r\n\u{0}"))
            let receipt = try #require(try channel.readInbound(as: StompFrame.self))
            #expect(receipt.command == "RECEIPT" && receipt["receipt-id"] == "r-1")
            _ = try? channel.finish()
        }

        @Test func anOversizeFrameIsRefused() throws {
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(StompFrameDecoder(maxFrameBytes: 64)))
            #expect(throws: (any Error).self) {
                try channel.writeInbound(channel.allocator.buffer(string: "MESSAGE\ncontent-length:100000\n\n"))
            }
            let other = EmbeddedChannel()
            try other.pipeline.syncOperations.addHandler(ByteToMessageHandler(StompFrameDecoder(maxFrameBytes: 64)))
            #expect(throws: (any Error).self) {
                try other.writeInbound(other.allocator.buffer(string: "MESSAGE\n\n" + String(repeating: "x", count: 200)))
            }
            #expect(throws: (any Error).self) {
                let third = EmbeddedChannel()
                try third.pipeline.syncOperations.addHandler(ByteToMessageHandler(StompFrameDecoder(maxFrameBytes: 64)))
                try third.writeInbound(third.allocator.buffer(string: "MESSAGE\nbad:\\x\n\n\u{0}"))
            }
        }
    }
}
