# The shell action as the Ruby ec2-boot-init's README wrote it; it runs unchanged.
newaction("shell") do |cmd, ud, md, config|
    if cmd.include?(:command)
        system(cmd[:command])
    end
end
