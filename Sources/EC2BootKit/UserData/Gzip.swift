import CBootSystem
#if canImport(Glibc)
import Glibc
#endif
import FoundationEssentials

enum Gzip {
    static func isCompressed(_ data: Data) -> Bool {
        data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
    }

    /// Inflates gzip data, stopping past `maxInflatedSize` (user_data.max_bytes): user-data is
    /// at most 16 KiB compressed on EC2, so anything near that is a decompression bomb.
    static func inflate(_ data: Data, maxInflatedSize: Int) throws(YAMLProblem) -> Data {
        var stream = z_stream()
        // 16 + MAX_WBITS: expect a gzip header.
        guard inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw YAMLProblem(source: "user-data", mark: nil, message: "cannot start gzip inflation")
        }
        defer { inflateEnd(&stream) }
        var output = Data()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        var input = [UInt8](data)
        input.withUnsafeMutableBufferPointer { inputBuffer in
            stream.next_in = inputBuffer.baseAddress
            stream.avail_in = uInt(inputBuffer.count)
            repeat {
                chunk.withUnsafeMutableBufferPointer { out in
                    stream.next_out = out.baseAddress
                    stream.avail_out = uInt(out.count)
                    status = zlib_inflate(&stream)
                    output.append(out.baseAddress!, count: out.count - Int(stream.avail_out))
                }
            } while status == Z_OK && output.count <= maxInflatedSize
        }
        if output.count > maxInflatedSize {
            throw YAMLProblem(source: "user-data", mark: nil, message: "gzip user-data inflates past user_data.max_bytes (\(ByteCount(maxInflatedSize)))")
        }
        guard status == Z_STREAM_END else {
            throw YAMLProblem(source: "user-data", mark: nil, message: "gzip user-data is corrupt or truncated")
        }
        return output
    }
}

// zlib's `inflate` clashes with nothing in Swift, but naming it makes the call site plain.
private func zlib_inflate(_ stream: UnsafeMutablePointer<z_stream>) -> Int32 {
    CBootSystem.inflate(stream, Z_NO_FLUSH)
}
