from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="registeredmodel",
            name="hashing",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="registeredmodel",
            name="file_stamp",
            field=models.CharField(blank=True, default="", max_length=60),
        ),
    ]
