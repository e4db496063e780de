# A Ruby ec2-boot-init style action: fetches each of :files from :url into :dir.
newaction("fetchfiles") do |cmd, ud, md, config|
    dir = File.join(ENV["EC2BOOT_ROOT"] || "/", cmd[:dir] || "/var/tmp")
    cmd[:files].each do |file|
        EC2Boot::Util.log("Fetching #{file} for #{md.flat_data['instance_id']}")
        EC2Boot::Util.get_url("#{cmd[:url]}/#{file}", "#{dir}/#{file}")
    end
end
