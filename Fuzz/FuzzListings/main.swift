import EC2BootKit
import Foundation

// libFuzzer's driver, started from this main (SwiftPM names an executable's entry point
// itself, so libFuzzer's own main cannot be used): it calls `fuzzOne` once per input.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<CInt>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

let fuzzOne: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt = { start, count in
    FuzzEntryPoints.listings(start.map { Data(bytes: $0, count: count) } ?? Data())
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv, fuzzOne))
