# ec2-boot-init's shim for actions written for the Ruby ec2-boot-init and its forks.
# Usage: ruby ec2boot_shim.rb TYPE ACTIONS_DIR, the action's parameters as JSON on stdin.
# The action sees what it saw in the Ruby tool: user-data parsed by Ruby's own YAML (Symbol
# keys and values as written, at every depth), `cmd` the action's own mapping of it, and
# EC2Boot::Config, ::Util, ::UserData, ::MetaData with the Ruby library's readers.
require "json"
require "yaml"
require "zlib"
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

    # Downloads through `ec2-boot-init fetch` (retries, atomic write, bounds). With a file,
    # writes it and returns true; without, returns the body. The URL goes on stdin (credentials
    # or a presigned query never sit in argv), a body into a 0700 folder of its own. A 404
    # raises URLNotFound, any other failure URLFetchFailed, as the Ruby library did.
    def self.get_url(url, file = nil)
      fetch = lambda do |target|
        IO.popen([ENV.fetch("EC2BOOT_BIN"), "fetch", "--root", ENV.fetch("EC2BOOT_ROOT"), "-", target], "w") { |io| io.puts(url) }
        shown = url.to_s.sub(/\?.*/, "?…").sub(%r{//[^/@]*@}, "//")
        raise URLNotFound, "#{shown}: not found" if $?.exitstatus == 4
        raise URLFetchFailed, "could not fetch #{shown}" unless $?.success?
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

    # The agent writes facts and the MOTD itself, after the actions: these say so.
    def self.update_motd(*)
      log("update_motd: ec2-boot-init writes the MOTD itself at the end of the run")
    end

    def self.write_facts(*)
      log("write_facts: ec2-boot-init writes the facts itself before the actions")
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

  # config.actions: the engine finds action files itself when each action runs, so files an
  # action installs are used by later actions without loading them here.
  class ActionsList
    def load_actions; end
    def run_actions(*); end
  end

  class Config
    attr_reader :user_data_url, :meta_data_url, :cache_dir, :actions_dir, :actions, :facts_file,
                :motd_file, :motd_template
    def initialize(root, actions_dir)
      base = ENV.fetch("EC2BOOT_METADATA_URL", "http://169.254.169.254").sub(%r{/+\z}, "")
      @user_data_url = "#{base}/latest/user-data"
      @meta_data_url = "#{base}/latest/meta-data/"
      @cache_dir = File.join(root, "var/spool/ec2boot")
      @actions_dir = actions_dir
      @facts_file = File.join(root, "etc/facts.txt")
      @motd_file = File.join(root, "etc/motd")
      @motd_template = File.join(root, "etc/ec2-boot-init/motd.provisioned")
      @actions = ActionsList.new
    end
  end
end

def newaction(name, &block)
  EC2Boot::Actions.module_eval { define_method("#{name}_action", &block) }
end

# Some forks' action files call a bare `log`, which their main program defined.
def log(msg)
  EC2Boot::Util.log(msg)
end

def symbolize(value)
  case value
  when Hash then value.each_with_object({}) { |(k, v), h| h[k.to_sym] = symbolize(v) }
  when Array then value.map { |v| symbolize(v) }
  else value
  end
end

# User-data as the Ruby tool had it: YAML.load of the raw text (gzip inflated), a Hash or {}.
# The agent has parsed and bounded the same bytes before any action runs.
def ruby_user_data(raw)
  raw = Zlib::GzipReader.new(StringIO.new(raw)).read if raw.byteslice(0, 2) == "\x1f\x8b".b
  return {} if raw.start_with?("#!")
  data = YAML.respond_to?(:unsafe_load) ? YAML.unsafe_load(raw) : YAML.load(raw)
  data.is_a?(Hash) ? data : {}
rescue StandardError, Psych::Exception
  {}
end

type, actions_dir = ARGV
params = JSON.parse($stdin.read)
raw = File.exist?(ENV["EC2BOOT_USER_DATA"].to_s) ? File.binread(ENV["EC2BOOT_USER_DATA"]) : ""
user_data = ruby_user_data(raw)
actions = user_data[:actions] || user_data["actions"]
cmd = actions.is_a?(Array) ? actions[ENV["EC2BOOT_ACTION_INDEX"].to_i] : nil
unless cmd.is_a?(Hash)
  # Not from this user-data (a command from elsewhere): its parameters, keys as Symbols.
  cmd = symbolize(params)
  cmd[:type] = type.to_sym
end

query = IO.popen([ENV.fetch("EC2BOOT_BIN"), "query", "--json", "--root", ENV.fetch("EC2BOOT_ROOT")], &:read)
doc = JSON.parse(query)

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
