# Psych (Ruby 3's YAML, the Ruby tool's reading of its user-data) over YAML documents: a JSON
# list of texts on stdin, a JSON list of trees on stdout, as pyyaml.py prints them but with
# Ruby's to_s of each value (what the Ruby tool wrote into facts.txt). Run with TZ=UTC: a time
# without a zone prints in the local zone.
require 'json'
require 'yaml'
require 'date'

def tree(value)
  case value
  when Hash then { 'map' => value.map { |k, v| [tree(k), tree(v)] } }
  when Array then { 'seq' => value.map { |v| tree(v) } }
  when nil then ['null', '']
  when true, false then ['bool', value.to_s]
  when Integer then ['int', value.to_s]
  when Float then ['float', value.to_s]
  when Time, Date then ['timestamp', value.to_s]
  else ['str', value.to_s]
  end
end

out = JSON.parse($stdin.read).map do |text|
  tree(YAML.unsafe_load(text))
rescue StandardError, Psych::Exception => e
  { 'error' => e.message.lines.first.chomp }
end
puts JSON.generate(out)
