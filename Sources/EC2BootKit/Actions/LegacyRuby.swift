import Foundation

/// Actions written for the Ruby ec2-boot-init run unchanged through a small Ruby shim:
/// `newaction("name") do |cmd, ud, md, config| … end`, with `EC2Boot::Util.get_url`
/// and `EC2Boot::Util.log` handed to `ec2-boot-init fetch` and the tool's log.
enum LegacyRuby {
    /// Whether the file defines `newaction("type")` (any type when nil).
    static func defines(_ type: String?, in path: String) -> Bool {
        guard let data = FileSystem.read(path), data.count < 1 << 20 else { return false }
        let text = String(decoding: data, as: UTF8.self)
        let name = type.map(NSRegularExpression.escapedPattern(for:)) ?? "[^\"')]+"
        let pattern = #"(^|\s)newaction\s*\(?\s*(["']|:)"# + name + #"["']?\s*\)?"#
        return text.range(of: pattern, options: .regularExpression) != nil
    }

    /// Writes the shim under the state folder and returns its path.
    static func installShim(_ paths: Paths) throws -> String {
        let path = paths.stateDir + "/ruby/ec2boot_shim.rb"
        if FileSystem.read(path) != Data(shim.utf8) {
            try AtomicFile.write(shim, to: path, mode: 0o644, directoryMode: 0o755)
        }
        return path
    }

    static let shim = #"""
    # ec2-boot-init's shim for actions written for the Ruby ec2-boot-init.
    # Usage: ruby ec2boot_shim.rb TYPE ACTIONS_DIR, the action's parameters as JSON on stdin.
    require "json"
    require "tmpdir"

    $stdout.sync = true

    module EC2Boot
      class URLFetchFailed < RuntimeError; end
      class URLNotFound < RuntimeError; end

      module Actions; end

      class Util
        def self.log(msg)
          puts msg.to_s
        end

        # Downloads through `ec2-boot-init fetch` (retries, atomic write). With a file, writes
        # it and returns true; without, returns the body. The URL goes on stdin (credentials or
        # a presigned query never sit in argv), a body into a 0700 folder of its own.
        def self.get_url(url, file = nil)
          fetch = lambda do |target|
            IO.popen([ENV.fetch("EC2BOOT_BIN"), "fetch", "--root", ENV.fetch("EC2BOOT_ROOT"), "-", target], "w") { |io| io.puts(url) }
            raise URLFetchFailed, "could not fetch #{url.to_s.sub(/\?.*/, "?…").sub(%r{//[^/@]*@}, "//")}" unless $?.success?
          end
          if file
            fetch.call(file)
            return true
          end
          Dir.mktmpdir("get_url", ENV.fetch("EC2BOOT_PRIVATE_DIR")) do |dir|
            target = File.join(dir, "body")
            fetch.call(target)
            File.binread(target)
          end
        end
      end

      class UserData
        attr_reader :user_data, :user_data_raw
        def initialize(data, raw)
          @user_data = data
          @user_data_raw = raw
        end

        def fetched?
          true
        end
      end

      class MetaData
        attr_reader :meta_data
        def initialize(tree)
          @meta_data = tree
        end

        def fetched?
          true
        end

        # As the Ruby tool flattened: parts joined by _, - as _, lines split into key_N.
        def flat_data(tree = @meta_data, prefix = "")
          tree.each_with_object({}) do |(k, v), flat|
            key = prefix + k.to_s.gsub("-", "_")
            if v.is_a?(Hash)
              flat.merge!(flat_data(v, "#{key}_"))
            elsif v.to_s.chomp.include?("\n")
              v.to_s.chomp.split("\n").each_with_index { |line, i| flat["#{key}_#{i}"] = line }
            else
              flat[key] = v.to_s.chomp
            end
          end
        end
      end

      class Config
        attr_reader :actions_dir, :cache_dir, :facts_file
        def initialize(root, actions_dir)
          @actions_dir = actions_dir
          @cache_dir = File.join(root, "var/spool/ec2boot")
          @facts_file = File.join(root, "etc/facts.txt")
        end
      end
    end

    def newaction(name, &block)
      EC2Boot::Actions.module_eval { define_method("#{name}_action", &block) }
    end

    def symbolize(value)
      case value
      when Hash then value.each_with_object({}) { |(k, v), h| h[k.to_sym] = symbolize(v) }
      when Array then value.map { |v| symbolize(v) }
      else value
      end
    end

    type, actions_dir = ARGV
    cmd = symbolize(JSON.parse($stdin.read))
    cmd[:type] = type.to_sym

    query = IO.popen([ENV.fetch("EC2BOOT_BIN"), "query", "--json", "--root", ENV.fetch("EC2BOOT_ROOT")], &:read)
    doc = JSON.parse(query)
    user_data = (doc["user_data"].is_a?(Hash) ? doc["user_data"] : {}).each_with_object({}) do |(k, v), h|
      h[k.to_sym] = k == "actions" ? symbolize(v) : v
    end
    raw = File.exist?(ENV["EC2BOOT_USER_DATA"].to_s) ? File.binread(ENV["EC2BOOT_USER_DATA"]) : ""

    # Only the file that defines this action (and what it requires, from the actions folder too):
    # other files' top-level code never runs, and no other file's definition can win.
    $LOAD_PATH.unshift(actions_dir)
    load ENV.fetch("EC2BOOT_RUBY_ACTION")
    runner = Object.new.extend(EC2Boot::Actions)
    method = "#{type}_action"
    unless runner.respond_to?(method)
      warn "no Ruby action defines newaction(#{type.inspect})"
      exit 1
    end
    begin
      runner.send(method, cmd, EC2Boot::UserData.new(user_data, raw), EC2Boot::MetaData.new(doc["metadata"] || {}),
                  EC2Boot::Config.new(ENV.fetch("EC2BOOT_ROOT"), actions_dir))
    rescue Exception => e
      warn "action #{type} failed: #{e.class}: #{e}"
      exit 1
    end
    """#
}
