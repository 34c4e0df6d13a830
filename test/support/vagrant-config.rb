# Prints, as JSON, the configuration Vagrant itself loads from the Vagrantfile in ARGV[0]: per
# machine its box, hostname, networks, synced folders and `after` triggers. Loading needs no
# provider and no box, so tests can check the Vagrantfile on machines that cannot run it.
#
#   ruby vagrant-config.rb DIR [PROVISION_BOX...]   => { "PROVISION_BOX value": { machines, no_parallel, provision_command }, ... }
#
# Each PROVISION_BOX value is loaded in a child process of its own (the Vagrantfile defines
# constants), all at once, after Vagrant itself is loaded once here.
require 'json'
require 'rubygems'
gem 'vagrant'
require 'vagrant'
require 'shellwords'

def describe_trigger(trigger)
  {
    command: trigger.command.to_s,
    name: trigger.name.to_s,
    only_on: Array(trigger.only_on).map(&:to_s),
    argv: trigger.run.nil? ? [] : Shellwords.split(trigger.run.inline.to_s),
    ruby: !trigger.ruby_block.nil?,
  }
end

# What the libvirt provider is told about the networks (loaded from the Vagrantfile, finalized).
def libvirt_settings(config)
  libvirt = config.vm.get_provider_config(:libvirt)
  {
    management_network_name: libvirt.management_network_name,
    management_network_address: libvirt.management_network_address,
    management_network_mode: libvirt.management_network_mode,
    private_networks: config.vm.networks.select { |type, _| type == :private_network }.map do |_, options|
      options.select { |key, _| key.to_s.start_with?('libvirt__') }
    end,
  }
rescue StandardError => e
  { error: e.message }
end

def load_config(dir)
  env = Vagrant::Environment.new(cwd: dir)
  machines = env.vagrantfile.machine_names.map do |name|
    config = env.vagrantfile.machine_config(name, nil, nil, nil)[:config]
    {
      name: name.to_s,
      box: config.vm.box,
      hostname: config.vm.hostname,
      private_networks: config.vm.networks.select { |type, _| type == :private_network }.map { |_, options| options.slice(:ip, :virtualbox__intnet) },
      synced_folders: config.vm.synced_folders.transform_values { |options| { disabled: options[:disabled] ? true : false } },
      # A trigger runs a command (argv) or Ruby code (ruby: true), such as the libvirt ones.
      before_triggers: config.trigger.before_triggers.map { |trigger| describe_trigger(trigger) },
      after_triggers: config.trigger.after_triggers.map { |trigger| describe_trigger(trigger) },
      libvirt: libvirt_settings(config),
    }
  end
  # The provisioning command the triggers run (the one after `vagrant up` is Ruby: it waits for every machine).
  provision_command = Object.const_defined?(:PROVISION_COMMAND) ? Object.const_get(:PROVISION_COMMAND) : nil
  { machines: machines, no_parallel: ENV['VAGRANT_NO_PARALLEL'], provision_command: provision_command }
end

dir = ARGV.fetch(0)
boxes = ARGV.drop(1)
boxes = [ENV.fetch('PROVISION_BOX', '')] if boxes.empty?
# All children at once; each writes its JSON to a pipe of its own.
children = boxes.map do |box|
  reader, writer = IO.pipe
  pid = fork do
    reader.close
    ENV['PROVISION_BOX'] = box
    writer.write(JSON.generate(load_config(dir)))
    writer.close
    exit!(0)
  end
  writer.close
  [box, reader, pid]
end
results = {}
children.each do |box, reader, pid|
  output = reader.read
  Process.wait(pid)
  abort "loading #{dir}/Vagrantfile with PROVISION_BOX=#{box} failed" unless $?.success?
  results[box] = JSON.parse(output)
end
puts JSON.generate(results)
